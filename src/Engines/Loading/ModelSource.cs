using PdRdma.Transport;

namespace PdRdma.Engines.Loading;

/// <summary>Resolves a model argument: "tiny-random[:...]", a llama2.c .bin file, or a Hugging Face folder.</summary>
public static class ModelSource
{
    public static LoadedModel Load(string model, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        options ??= new ModelLoadOptions();
        TorchRuntime.EnsureAvailable(options.Device);
        if (TinyRandomModel.Matches(model)) return TinyRandomModel.Create(model, options);
        if (Directory.Exists(model)) return HuggingFaceCheckpoint.Load(model, options);
        if (File.Exists(model)) return Llama2cCheckpoint.Load(model, options);
        throw new ModelLoadException(model, "file", "no such file or folder (expected a llama2.c .bin, a Hugging Face folder, or tiny-random)");
    }

    /// <summary>
    /// Throws TransferException for a device this process cannot use: Unsupported for a malformed name,
    /// DeviceUnavailable (naming the fix) for one that is not here. See <see cref="TorchRuntime.EnsureAvailable"/>.
    /// </summary>
    public static void CheckDevice(string device) => TorchRuntime.EnsureAvailable(EngineDevice.Parse(device));
}
