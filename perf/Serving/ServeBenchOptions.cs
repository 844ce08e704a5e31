namespace PdRdma.Perf.Serving;

/// <summary>
/// Settings of `pdrdma bench serve` (after vLLM's benchmark_serving): the load points (closed-loop concurrencies
/// and Poisson request rates), the request count per point, the prompt and output length distributions, and the
/// SLO that goodput counts against.
/// </summary>
public sealed record ServeBenchOptions
{
    public IReadOnlyList<int> Concurrency { get; init; } = [1, 8, 32];
    public IReadOnlyList<double> RequestRates { get; init; } = [];

    /// <summary>Requests per load point (at least 2 × the concurrency are sent in closed-loop points).</summary>
    public int Requests { get; init; } = 96;

    /// <summary>Prompt length in words, uniform in [min, max] (about 1.3 tokens per word on stories260K).</summary>
    public int PromptWordsMin { get; init; } = 8;
    public int PromptWordsMax { get; init; } = 64;

    /// <summary>max_tokens, uniform in [min, max]; generation may also end at the end of a story ("stop").</summary>
    public int OutputTokensMin { get; init; } = 64;
    public int OutputTokensMax { get; init; } = 192;

    public int Seed { get; init; } = 1;

    /// <summary>Goodput counts completed requests with TTFT and TPOT within these bounds.</summary>
    public double SloTtftMs { get; init; } = 250;
    public double SloTpotMs { get; init; } = 25;
}
