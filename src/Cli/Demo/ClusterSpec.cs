namespace PdRdma.Cli.Demo;

/// <summary>What a <see cref="LocalCluster"/> starts: two nodes (daemon + engine each), a colocated engine and the proxy.</summary>
public sealed class ClusterSpec
{
    public string Model { get; init; } = Engines.Serving.ModelCatalog.Default;

    /// <summary>auto | shm | tcp | verbs, passed to both daemons.</summary>
    public string Backend { get; init; } = "tcp";

    /// <summary>Two network namespaces joined by veth (needs root and iproute2); otherwise loopback ports.</summary>
    public bool Namespaces { get; init; }

    /// <summary>Prefix of namespace and interface names (≤ 4 characters).</summary>
    public string Prefix { get; init; } = "pdm";

    public int LayerDelayMs { get; init; }

    public int LeaseTtlSeconds { get; init; } = 30;

    /// <summary>Bound on the proxy's wait for a decode token.</summary>
    public int TokenTimeoutSeconds { get; init; } = 60;

    public bool Colocated { get; init; } = true;

    public string? WorkDirectory { get; init; }
}
