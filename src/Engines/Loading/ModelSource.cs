using PdRdma.Transport;

namespace PdRdma.Engines.Loading;

/// <summary>Resolves a model argument: "tiny-random[:...]", "stories260K" (shipped), a llama2.c .bin file, or a Hugging Face folder.</summary>
public static class ModelSource
{
    public static LoadedModel Load(string model, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        options ??= new ModelLoadOptions();
        TorchRuntime.EnsureAvailable(options.Device);
        if (TinyRandomModel.Matches(model)) return TinyRandomModel.Create(model, options);
        model = ShippedModels.Resolve(model);
        if (Directory.Exists(model))
        {
            if (File.Exists(Path.Combine(model, "config.json"))) return HuggingFaceCheckpoint.Load(model, options);
            // A folder holding one llama2.c checkpoint (and its tokenizer): load that checkpoint.
            var checkpoints = Directory.EnumerateFiles(model, "*.bin")
                .Where(f => !Path.GetFileName(f).StartsWith("tok", StringComparison.OrdinalIgnoreCase)).ToList();
            if (checkpoints.Count == 1) return Llama2cCheckpoint.Load(checkpoints[0], options);
            throw new ModelLoadException(model, "folder", checkpoints.Count == 0
                ? "neither a Hugging Face folder (no config.json) nor a folder with a llama2.c checkpoint (no .bin)"
                : $"no config.json and {checkpoints.Count} .bin files: name the llama2.c checkpoint file itself");
        }
        if (File.Exists(model)) return Llama2cCheckpoint.Load(model, options);
        throw new ModelLoadException(model, "file", "no such file or folder (expected a llama2.c .bin, a Hugging Face folder, or tiny-random)");
    }

    /// <summary>
    /// Throws TransferException for a device this process cannot use: Unsupported for a malformed name,
    /// DeviceUnavailable (naming the fix) for one that is not here. See <see cref="TorchRuntime.EnsureAvailable"/>.
    /// </summary>
    public static void CheckDevice(string device) => TorchRuntime.EnsureAvailable(EngineDevice.Parse(device));
}
