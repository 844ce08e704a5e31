namespace PdRdma.Cli.Options;

/// <summary>The transport the daemons of a local cluster use between nodes (what <c>--backend</c> of daemon, demo and cluster takes).</summary>
public enum ClusterBackend
{
    /// <summary>Shared memory when both ends are on one host, else verbs when an RDMA device is there, else TCP.</summary>
    Auto,

    /// <summary>Shared memory (same host only).</summary>
    Shm,

    /// <summary>TCP.</summary>
    Tcp,

    /// <summary>RDMA verbs (demo: two Soft-RoCE VMs when this host has no RDMA device).</summary>
    Verbs,
}
