using PdRdma.Engines.Serving.Models;

namespace PdRdma.Engines.Serving;

/// <summary>
/// Opens a model for serving: "toy" is a small deterministic stand-in without TorchSharp (quick tests of the
/// serving path); anything else goes to the Llama engines (tiny-random, a llama2.c .bin, a Hugging Face folder).
/// </summary>
public static class ModelCatalog
{
    public const string Default = "tiny-random";

    public static IServingModel Open(string name) => name switch
    {
        "toy" => new ToyModel(),
        _ => new LlamaServingModel(name),
    };
}
