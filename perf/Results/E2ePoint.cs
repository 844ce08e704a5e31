namespace PdRdma.Perf.Results;

/// <summary>
/// One prompt length, colocated vs disaggregated (prefill and decode in two processes, KV moved by the transfer
/// library). TTFT: request start until the engine that decodes holds the prompt's KV and the first token.
/// TPOT: mean time per generated token after the first.
/// </summary>
public sealed record E2ePoint
{
    public required int PromptLen { get; init; }
    public required double TtftMsColocated { get; init; }
    public required double TtftMsDisagg { get; init; }
    public double TtftRatio => TtftMsColocated > 0 ? Math.Round(TtftMsDisagg / TtftMsColocated, 3) : 0;
    public required double TpotMsColocated { get; init; }
    public required double TpotMsDisagg { get; init; }
    public double TpotRatio => TpotMsColocated > 0 ? Math.Round(TpotMsDisagg / TpotMsColocated, 3) : 0;

    /// <summary>Share of the disaggregated TTFT during which the KV transfer was not hidden behind compute.</summary>
    public required double TransferShare { get; init; }
    public required string Backend { get; init; }
    public required string Model { get; init; }
    public required bool Overlap { get; init; }
    public long KvBytes { get; init; }

    /// <summary>Time spent in transfer calls in total (overlapped or not), milliseconds.</summary>
    public double TransferMs { get; init; }
}
