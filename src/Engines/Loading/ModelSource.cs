namespace PdRdma.Engines.Loading;

/// <summary>Resolves a model argument: "tiny-random[:...]", a llama2.c .bin file, or a Hugging Face folder.</summary>
public static class ModelSource
{
    public static LoadedModel Load(string model, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        options ??= new ModelLoadOptions();
        if (TinyRandomModel.Matches(model)) return TinyRandomModel.Create(model, options);
        if (Directory.Exists(model)) return HuggingFaceCheckpoint.Load(model, options);
        if (File.Exists(model)) return Llama2cCheckpoint.Load(model, options);
        throw new ModelLoadException(model, "file", "no such file or folder (expected a llama2.c .bin, a Hugging Face folder, or tiny-random)");
    }
}
