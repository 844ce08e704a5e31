namespace PdRdma.Engines.Serving;

/// <summary>Settings of the disaggregating proxy (`pdrdma proxy`).</summary>
public sealed class ProxyOptions
{
    public required IReadOnlyList<string> Prefill { get; init; }
    public required IReadOnlyList<string> Decode { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 46300;

    /// <summary>Bound on reserve and info calls.</summary>
    public TimeSpan ControlTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bound on one prefill (compute and KV push).</summary>
    public TimeSpan PrefillTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The same request limits as the serving instances (a colocated server's answers, byte for byte).</summary>
    public ServingLimits Limits { get; init; } = ServingLimits.Default;

    /// <summary>Longest silence allowed between two tokens from a decode instance.</summary>
    public TimeSpan TokenTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>When enabled, prefill and decode instances are found in the cluster directory instead of <see cref="Prefill"/>/<see cref="Decode"/>.</summary>
    public Daemon.Discovery.EtcdOptions Etcd { get; init; } = new();
}
