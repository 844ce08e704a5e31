using PdRdma.Engines.Sampling;

namespace PdRdma.Engines.Generation;

/// <summary>One generation: prompt tokens (BOS included), how many tokens to sample at most, and how.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> PromptTokens, int MaxNewTokens, SamplingOptions Sampling)
{
    /// <summary>llama2.c's <c>-n steps</c>: positions including the prompt; 0 or more than the context means the context.</summary>
    public static int MaxNewTokensForSteps(int steps, int promptLength, int maxSeqLen)
    {
        if (steps <= 0 || steps > maxSeqLen) steps = maxSeqLen;
        return Math.Max(0, steps - promptLength + 1);
    }
}
