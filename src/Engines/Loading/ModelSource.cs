using PdRdma.Transport;

namespace PdRdma.Engines.Loading;

/// <summary>Resolves a model argument: "tiny-random[:...]", "stories260K" (shipped), a llama2.c .bin file, or a Hugging Face folder.</summary>
public static class ModelSource
{
    public static LoadedModel Load(string model, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        options ??= new ModelLoadOptions();
        CheckDevice(options.Device);
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

    /// <summary>Throws TransferException(DeviceUnavailable) for a device this process cannot use, saying why.</summary>
    public static void CheckDevice(string device)
    {
        if (device == "cpu") return;
        if (!device.StartsWith("cuda", StringComparison.Ordinal))
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable, $"device '{device}' is not supported (cpu or cuda:N)");
        }
        if (!TorchSharp.torch.cuda.is_available())
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable,
                $"device '{device}': CUDA is not available to TorchSharp (this build references TorchSharp-cpu; reference TorchSharp-cuda-linux and run on a machine with an NVIDIA driver)");
        }
        int index = device.Length > 5 && int.TryParse(device.AsSpan(5), out var n) ? n : 0;
        if (index >= TorchSharp.torch.cuda.device_count())
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable, $"device '{device}': only {TorchSharp.torch.cuda.device_count()} CUDA devices");
        }
    }
}
