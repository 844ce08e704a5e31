namespace PdRdma.Engines.Sampling;

/// <summary>How to pick tokens: temperature 0 is greedy (argmax, lowest index on ties); otherwise llama2.c's sampler.</summary>
public sealed record SamplingOptions(float Temperature = 0f, float TopP = 0.9f, ulong Seed = 1)
{
    public static SamplingOptions Greedy { get; } = new(0f, 0.9f, 1);
}
