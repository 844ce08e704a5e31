namespace PdRdma.Hosting.Clusters;

/// <summary>What a <see cref="LocalCluster"/> starts: two nodes (daemon + engine each), a colocated engine and the proxy.</summary>
public sealed class ClusterSpec
{
    /// <summary>The model every engine serves (a ModelCatalog name or path).</summary>
    public required string Model { get; init; }

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

    /// <summary>Where the parts' logs go (default: <see cref="WorkDirectory"/>), e.g. a folder the host can read when the node runs in a VM.</summary>
    public string? LogDirectory { get; init; }

    /// <summary>Node A's and node B's addresses when the nodes are separate hosts (e.g. the Soft-RoCE VMs); null: namespaces or loopback.</summary>
    public (string A, string B)? NodeAddresses { get; init; }

    /// <summary>"a" or "b": start only that node's parts (the other node runs on another host); null: both.</summary>
    public string? OnlyNode { get; init; }

    /// <summary>The cluster secret shared by both nodes; null: a fresh one in <see cref="WorkDirectory"/>.</summary>
    public string? SecretFile { get; init; }

    /// <summary>Emulated hosts (TCG VMs): generous bounds on starts, handshakes, daemon calls and proxy waits.</summary>
    public bool SlowHost { get; init; }
}
