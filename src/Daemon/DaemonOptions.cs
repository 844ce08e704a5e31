namespace PdRdma.Daemon;

/// <summary>
/// Settings of pdrdmad, bound from the "Daemon" section of the config file (JSON), environment variables
/// (PDRDMA_Daemon__NodeId=...) and the command line (--node-id, --socket, ... or --Daemon:NodeId=...), later
/// sources winning. Validated at start by <see cref="DaemonOptionsValidator"/>.
/// </summary>
public sealed class DaemonOptions
{
    public const string Section = "Daemon";

    /// <summary>Unique name of this node, sent to peers at connect and used in leases and metrics.</summary>
    public string NodeId { get; set; } = Environment.MachineName;

    /// <summary>Unix socket of the engine API.</summary>
    public string Socket { get; set; } = "/run/pdrdma/pdrdmad.sock";

    /// <summary>Group allowed to open the engine socket (mode 0660). Empty: leave the socket's group as created (development only).</summary>
    public string SocketGroup { get; set; } = "pdrdma";

    /// <summary>Address:port where peer daemons connect (tcp control and data).</summary>
    public string PeerListen { get; set; } = "0.0.0.0:46100";

    /// <summary>Address:port peers use to reach this node, when it differs from PeerListen (e.g. PeerListen binds 0.0.0.0).</summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>Address:port of /health and /metrics (HTTP).</summary>
    public string HttpListen { get; set; } = "127.0.0.1:46190";

    /// <summary>File holding the cluster secret (at least 16 bytes, readable only by the service).</summary>
    public string? ClusterSecretFile { get; set; }

    /// <summary>The cluster secret itself (hex), for tests and containers; prefer ClusterSecretFile.</summary>
    public string? ClusterSecret { get; set; }

    /// <summary>auto (same host → shm, else tcp) | shm | tcp | verbs.</summary>
    public string Backend { get; set; } = "auto";

    /// <summary>When the forced Backend cannot be used (verbs without an RDMA device, a peer without it): use the automatic choice instead, and log why. Off: fail with the reason.</summary>
    public bool AllowFallback { get; set; }

    /// <summary>Bound on opening a link to a peer daemon (raise for slow hosts, e.g. emulated VMs).</summary>
    public double ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>How long this daemon waits for a connecting peer to finish its handshake.</summary>
    public double HandshakeTimeoutSeconds { get; set; } = 10;

    /// <summary>A lease on blocks that receives nothing expires after this long.</summary>
    public double LeaseTtlSeconds { get; set; } = 30;

    public double HeartbeatSeconds { get; set; } = 2;

    /// <summary>On SIGTERM, in-flight writes get this long to finish before they are failed.</summary>
    public double DrainSeconds { get; set; } = 5;

    /// <summary>Requests one engine session may have in work at once; one more is refused with Overloaded. <see cref="Client.DaemonClient"/> waits before it sends more than this default.</summary>
    public int MaxRequestsPerEngine { get; set; } = Client.DaemonClient.MaxCallsInFlight;

    /// <summary>Arrived/LeaseEnded events queued for one engine; an engine that lets more pile up (it stopped reading) is disconnected.</summary>
    public int MaxQueuedEventsPerEngine { get; set; } = 1024;

    /// <summary>Bound on sending one frame (reply or event) to an engine; an engine that does not read for this long is disconnected.</summary>
    public double EngineSendTimeoutSeconds { get; set; } = 5;

    /// <summary>The cluster directory (Daemon:Etcd:Endpoints etc.): when set, this node registers in etcd and resolves peers by node id there.</summary>
    public Discovery.EtcdOptions Etcd { get; set; } = new();
}
