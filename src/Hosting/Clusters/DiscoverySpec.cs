namespace PdRdma.Hosting.Clusters;

/// <summary>What a <see cref="DiscoveryCluster"/> starts: N prefill and M decode nodes (daemon + engine each) found through etcd, and the proxy.</summary>
public sealed class DiscoverySpec
{
    public int Prefill { get; init; } = 1;

    public int Decode { get; init; } = 1;

    /// <summary>Endpoints of a running etcd; null: start one (loopback port, temporary data directory).</summary>
    public string? Etcd { get; init; }

    /// <summary>TTL of the registrations' etcd leases: how long a dead node may stay in the routing.</summary>
    public int EtcdTtlSeconds { get; init; } = 10;

    /// <summary>The model every engine serves (a ModelCatalog name or path).</summary>
    public required string Model { get; init; }

    public string Backend { get; init; } = "tcp";

    /// <summary>One network namespace per node on a bridge (needs root and iproute2); otherwise loopback ports.</summary>
    public bool Namespaces { get; init; }

    /// <summary>Prefix of namespace and interface names (≤ 4 characters).</summary>
    public string Prefix { get; init; } = "pdc";

    /// <summary>Also start a colocated engine (no etcd) as the reference for outputs.</summary>
    public bool Colocated { get; init; }

    /// <summary>Proxy port (0: a free one on loopback, 30300 in namespaces).</summary>
    public int ProxyPort { get; init; }

    public int TokenTimeoutSeconds { get; init; } = 60;

    public int LayerDelayMs { get; init; }

    public string? WorkDirectory { get; init; }
}
