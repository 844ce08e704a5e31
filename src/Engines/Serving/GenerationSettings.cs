using PdRdma.Engines.Sampling;

namespace PdRdma.Engines.Serving;

/// <summary>How many tokens to generate at most and how to sample them.</summary>
public sealed record GenerationSettings(int MaxTokens, SamplingOptions Sampling)
{
    public static GenerationSettings Greedy(int maxTokens) => new(maxTokens, SamplingOptions.Greedy);
}
