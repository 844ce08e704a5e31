namespace PdRdma.Perf.Transfer;

/// <summary>What the transfer part of a run covers.</summary>
public sealed record TransferBenchOptions
{
    /// <summary>"shm", "tcp", "verbs".</summary>
    public IReadOnlyList<string> Backends { get; init; } = ["shm", "tcp", "verbs"];

    public required TransferPlan Plan { get; init; }

    /// <summary>tcp over loopback as well as between namespaces (when root).</summary>
    public bool TcpBothPaths { get; init; } = true;

    /// <summary>Force tcp onto loopback even as root.</summary>
    public bool LoopbackOnly { get; init; }

    /// <summary>How long each iperf3 run lasts, and each memcpy point.</summary>
    public TimeSpan BaselineDuration { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Also measure region registration against size, up to this many bytes (0: skip).</summary>
    public long RegistrationMaxBytes { get; init; }

    /// <summary>Also measure qperf tcp_lat with messages of this size on each path (0: skip); the latency pattern's baseline.</summary>
    public long QperfLatencyBytes { get; init; }

    /// <summary>Measure the bandwidth baselines (memcpy, iperf3); the kv, latency and rate patterns have their own.</summary>
    public bool BandwidthBaselines { get; init; } = true;
}
