using PdRdma.Transport;

namespace PdRdma.Engines.Loading;

/// <summary>Where and how to load a model.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>"cpu" or "cuda:N".</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Weights/KV dtype; null keeps the checkpoint's own (float32 for llama2.c).</summary>
    public KvDType? DType { get; init; }

    /// <summary>Tokenizer file; null looks beside the checkpoint.</summary>
    public string? TokenizerPath { get; init; }
}
