using PdRdma.Engines.Serving.Models;

namespace PdRdma.Engines.Serving;

/// <summary>
/// Opens a model for serving: "stories260K" (the default) is the trained llama2.c model shipped in the repository
/// (models/stories260K, copied beside the binaries at build); "toy" is a small deterministic stand-in without
/// TorchSharp; anything else goes to the Llama engines (tiny-random, a llama2.c .bin, a Hugging Face folder).
/// </summary>
public static class ModelCatalog
{
    /// <summary>The model `serve` and `demo` use when none is named.</summary>
    public const string Default = Loading.ShippedModels.Stories260KName;

    public static IServingModel Open(string name, ServingLimits? limits = null) => Open(name, EngineDevice.Cpu, limits);

    /// <summary>Opens <paramref name="name"/> on <paramref name="device"/>; the toy model runs on the CPU only.</summary>
    public static IServingModel Open(string name, EngineDevice device, ServingLimits? limits = null) => name switch
    {
        "toy" when device.IsCuda => throw new ArgumentException("the toy model has no GPU form: serve a Llama (tiny-random, a .bin, a Hugging Face folder) on cuda"),
        "toy" => new ToyModel(),
        _ => new LlamaServingModel(name, limits: limits, device: device),
    };
}
