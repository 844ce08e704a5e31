namespace PdRdma.Perf.Results;

/// <summary>Everything one <c>pdrdma bench</c> run measured; what the report, the plots and the JSON are made from.</summary>
public sealed class BenchRun
{
    public required DateTimeOffset StartedAt { get; init; }
    public TimeSpan Duration { get; set; }
    public required MachineInfo Machine { get; init; }
    public List<TransferPoint> Transfer { get; } = [];
    public List<TransferPoint> Batches { get; } = [];
    public List<KvShapedPoint> KvShaped { get; } = [];

    /// <summary>qperf tcp_lat per path, when the latency pattern asked for it.</summary>
    public List<LatencyBaselinePoint> LatencyBaselines { get; } = [];
    public List<RegistrationPoint> Registration { get; } = [];
    public List<E2ePoint> E2e { get; } = [];
    public List<ThroughputPoint> Throughput { get; } = [];
    public List<TargetResult> Targets { get; } = [];

    /// <summary>Parts that were skipped or failed, each with the reason (never silently left out).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Model and engine settings the end-to-end part used, in words.</summary>
    public List<string> E2eSetup { get; } = [];
}
