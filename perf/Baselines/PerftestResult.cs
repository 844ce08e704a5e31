namespace PdRdma.Perf.Baselines;

/// <summary>One size row of ib_write_bw (bandwidth, Gbit/s) or ib_write_lat (latency, microseconds).</summary>
public sealed record PerftestResult(long Bytes, int Iterations, double? AverageGbps, double? TypicalLatencyUs, double? P99LatencyUs);
