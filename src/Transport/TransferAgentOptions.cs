using System.Net;
using Microsoft.Extensions.Logging;
using PdRdma.Transport.Backends;

namespace PdRdma.Transport;

/// <summary>Configuration of one <see cref="TransferAgent"/>; immutable once the agent is built.</summary>
public sealed class TransferAgentOptions
{
    /// <summary>Unique per agent; logged and sent at connect.</summary>
    public required string NodeId { get; init; }

    /// <summary>Same value on both sides means same host (shared memory possible). Default: machine id + boot id.</summary>
    public string HostId { get; init; } = HostIdentity.Current;

    /// <summary>Compared at connect when both sides set it; a mismatch names the differing field.</summary>
    public KvLayout? Layout { get; init; }

    /// <summary>Control (and tcp data) listener; port 0 picks an ephemeral port. Null: this agent only initiates.</summary>
    public IPEndPoint? Listen { get; init; }

    public BackendChoice Backend { get; init; } = BackendChoice.Auto;

    /// <summary>When the forced backend cannot be used, fall back to the automatic choice (logged with the reason).</summary>
    public bool AllowFallback { get; init; }

    /// <summary>
    /// When set (at least 32 random bytes): mutual proof of the secret at connect, then every frame authenticated with
    /// keys derived from it and the handshake (docs/transport.md). Never sent on the wire. Null: no authentication at
    /// all (tests, a single trusted host); a peer that requires the secret refuses such an agent.
    /// </summary>
    public byte[]? ClusterSecret { get; init; }

    /// <summary>
    /// With a <see cref="ClusterSecret"/>: tcp data payloads carry a MAC too (on by default; both sides must keep it on).
    /// Turning it off is for measuring its cost only: control frames stay authenticated, payload bytes do not.
    /// </summary>
    public bool AuthenticateData { get; init; } = true;

    /// <summary>Largest frame a target accepts before the peer proved it holds the secret (a hello, a setup).</summary>
    public int PreAuthFrameBytes { get; init; } = 64 << 10;

    /// <summary>Target side: may refuse a peer's write (leases). Null: every in-bounds write is allowed.</summary>
    public IWriteAuthorizer? Authorizer { get; init; }

    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Backends in order of preference; null: shared memory, verbs (offered only where an RDMA device is usable), then tcp. The agent disposes them.</summary>
    public IReadOnlyList<ITransferBackend>? Backends { get; init; }

    /// <summary>Largest control frame accepted (and data chunk); larger frames are a protocol error.</summary>
    public int MaxFrameBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Batches one connection may have in flight; further writes wait (back-pressure).</summary>
    public int MaxBatchesInFlight { get; init; } = 16;

    /// <summary>Target side: writes one batch may hold; more is refused with PoolFull before anything is placed.</summary>
    public int MaxWritesPerBatch { get; init; } = 1 << 17;

    /// <summary>Target side: bytes of accepted, unfinished batches one peer may hold; more is refused with PoolFull.</summary>
    public long MaxBytesInFlightPerPeer { get; init; } = 8L << 30;

    /// <summary>Target side: an accepted batch not committed within this is refused with Timeout and its later bytes drained.</summary>
    public TimeSpan BatchDeadline { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Target side: connections held at once (handshaking or established); more are closed at accept.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Target side: connections one source address may hold at once; more are closed at accept.</summary>
    public int MaxConnectionsPerSource { get; init; } = 64;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a target waits for a connecting peer to finish the handshake.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Tests only: speak another protocol version.</summary>
    internal int? ProtocolVersionOverride { get; init; }

    /// <summary>Tests only: runs on the initiator after the batch's checksum was computed, before its bytes move.</summary>
    internal Action<Backends.PlannedBatch>? AfterChecksumForTests { get; init; }
}
