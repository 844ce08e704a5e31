using PdRdma.Engines.Serving.Models;

namespace PdRdma.Engines.Serving;

/// <summary>
/// Opens a model for serving: "toy" is a small deterministic stand-in without TorchSharp (quick tests of the
/// serving path); anything else goes to the Llama engines (tiny-random, a llama2.c .bin, a Hugging Face folder).
/// </summary>
public static class ModelCatalog
{
    public const string Default = "tiny-random";

    public static IServingModel Open(string name) => Open(name, EngineDevice.Cpu);

    /// <summary>Opens <paramref name="name"/> on <paramref name="device"/>; the toy model runs on the CPU only.</summary>
    public static IServingModel Open(string name, EngineDevice device) => name switch
    {
        "toy" when device.IsCuda => throw new ArgumentException("the toy model has no GPU form: serve a Llama (tiny-random, a .bin, a Hugging Face folder) on cuda"),
        "toy" => new ToyModel(),
        _ => new LlamaServingModel(name, device: device),
    };
}
