namespace PdRdma.Perf.Serving;

/// <summary>What the client measured for one streamed request (times in ms from sending it).</summary>
public sealed record ServeRequestResult(int PromptIndex, bool Ok, string Text, int OutputTokens, double TtftMs, double EndMs, IReadOnlyList<double> ItlMs,
    double TransferMs, string? Error)
{
    /// <summary>The proxy's account of the first token (disaggregated only; zeros colocated).</summary>
    public TtftParts Parts { get; init; } = new();

    /// <summary>Mean time per output token after the first (vLLM's TPOT).</summary>
    public double TpotMs => OutputTokens > 1 ? (EndMs - TtftMs) / (OutputTokens - 1) : 0;
}
