namespace PdRdma.Perf.E2e;

/// <summary>What the end-to-end part covers.</summary>
public sealed record E2eOptions
{
    public IReadOnlyList<int> PromptLengths { get; init; } = [128, 256, 512, 1024, 4096];

    /// <summary>Disaggregated backends; verbs is left out where it does not run.</summary>
    public IReadOnlyList<string> Backends { get; init; } = ["shm", "tcp"];

    /// <summary>Tokens generated per request (TPOT is the mean over all but the first).</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Models: "largest" (the largest in models/) and "random" (large KV).</summary>
    public IReadOnlyList<string> Models { get; init; } = ["largest", "random"];

    /// <summary>Run without layer-by-layer overlap as well (with it always).</summary>
    public bool WithoutOverlapToo { get; init; } = true;

    /// <summary>Requests of the throughput run (0: skip it).</summary>
    public int ThroughputRequests { get; init; } = 4;

    /// <summary>When set, points not started by then are skipped (and noted), so that the whole run keeps its time budget.</summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>Random model shape; shrunk when the whole run must stay short.</summary>
    public RandomModelShape RandomShape { get; init; } = RandomModelShape.Default;
}
