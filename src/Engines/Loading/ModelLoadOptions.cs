using PdRdma.Transport;

namespace PdRdma.Engines.Loading;

/// <summary>Where and how to load a model.</summary>
public sealed record ModelLoadOptions
{
    /// <summary>Where the weights go (<see cref="EngineDevice.Cpu"/> by default).</summary>
    public EngineDevice Device { get; init; } = EngineDevice.Cpu;

    /// <summary>Weights/KV dtype; null keeps the checkpoint's own (float32 for llama2.c).</summary>
    public KvDType? DType { get; init; }

    /// <summary>Tokenizer file; null looks beside the checkpoint.</summary>
    public string? TokenizerPath { get; init; }
}
