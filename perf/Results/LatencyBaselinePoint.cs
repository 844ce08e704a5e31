namespace PdRdma.Perf.Results;

/// <summary>A latency baseline measured on one path in the same run (qperf tcp_lat), for the latency pattern.</summary>
public sealed record LatencyBaselinePoint
{
    public required string Path { get; init; }
    public required string Baseline { get; init; }
    public required long Bytes { get; init; }
    public required double LatencyUs { get; init; }
}
