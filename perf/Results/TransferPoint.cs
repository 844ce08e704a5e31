namespace PdRdma.Perf.Results;

/// <summary>
/// One-sided write throughput for one message size and batch size on one backend and path, beside the baseline
/// measured on the same path in the same run. Rates are in Gbit/s (10^9 bits per second).
/// </summary>
public sealed record TransferPoint
{
    public required string Backend { get; init; }
    public required long Bytes { get; init; }
    public required double Gbps { get; init; }
    public required string Baseline { get; init; }
    public required double BaselineGbps { get; init; }
    public double Ratio => BaselineGbps > 0 ? Math.Round(Gbps / BaselineGbps, 3) : 0;

    /// <summary>"one-host" (two processes, loopback) or "two-hosts" (two network namespaces joined by veth) or "two-vms".</summary>
    public required string Path { get; init; }

    /// <summary>Writes per batch; each batch is one posted request completed by the target's acknowledgement.</summary>
    public int Ops { get; init; } = 1;

    public int Iterations { get; init; }

    /// <summary>Completion latency of one batch posted alone (queue depth 1), median and 99th percentile, microseconds.</summary>
    public double? LatencyP50Us { get; init; }
    public double? LatencyP99Us { get; init; }
}
