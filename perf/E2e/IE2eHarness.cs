namespace PdRdma.Perf.E2e;

/// <summary>
/// The engines as the end-to-end benchmark sees them: one model, run colocated (prefill and decode in one engine)
/// or disaggregated (a prefill and a decode engine, the KV moved by the serving path's transfer machinery). Prompts are made
/// by the harness (random token ids of the given length; the content does not change the cost).
/// Not thread-safe: one request at a time, except inside <see cref="ThroughputAsync"/>.
/// </summary>
public interface IE2eHarness : IAsyncDisposable
{
    /// <summary>Short name for reports, e.g. "stories260K" or "random-16L-8kv-128d-bf16".</summary>
    string ModelName { get; }

    /// <summary>Longest prompt plus generation the model takes.</summary>
    int MaxSequenceLength { get; }

    /// <summary>KV bytes one token occupies (all layers, K and V).</summary>
    long KvBytesPerToken { get; }

    /// <summary>Settings in words for the report (dims, dtype, block size, threads).</summary>
    IReadOnlyList<string> Describe();

    Task<ColocatedSample> ColocatedAsync(int promptLen, int maxTokens, CancellationToken ct);

    Task<DisaggSample> DisaggregatedAsync(int promptLen, int maxTokens, string backend, bool overlap, CancellationToken ct);

    /// <summary>The greedy tokens of one prompt generated colocated and disaggregated (they must be equal).</summary>
    Task<(IReadOnlyList<int> Colocated, IReadOnlyList<int> Disaggregated)> BothWaysAsync(int promptLen, int maxTokens, string backend, bool overlap, CancellationToken ct);

    /// <summary>Requests per second for <paramref name="requests"/> requests, colocated (one engine) and disaggregated (pipelined).</summary>
    Task<(double Colocated, double Disaggregated)> ThroughputAsync(int promptLen, int maxTokens, int requests, string backend, CancellationToken ct);
}
