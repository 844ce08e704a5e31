namespace PdRdma.Perf.Commands;

/// <summary>The transfer patterns of issue 10 (<c>bench transfer --pattern</c>).</summary>
public enum BenchPattern
{
    /// <summary>Many small blocks in one batch against one extent of the same bytes.</summary>
    Kv,

    /// <summary>One small write with its notification, acknowledged, against qperf's tcp_lat.</summary>
    Latency,

    /// <summary>Writes per second at 1 and 64 writes per batch.</summary>
    Rate,
}
