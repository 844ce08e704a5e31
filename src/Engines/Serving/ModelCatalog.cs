using PdRdma.Engines.Serving.Models;

namespace PdRdma.Engines.Serving;

/// <summary>Opens a model for serving by name. "toy" is the stand-in used until the Llama engines are merged.</summary>
public static class ModelCatalog
{
    public const string Default = "toy";

    public static IServingModel Open(string name) => name switch
    {
        "toy" => new ToyModel(),
        _ => throw new ArgumentException($"model '{name}' is not available to the serving path yet (the Llama engines are not merged on this branch): use --model toy"),
    };
}
