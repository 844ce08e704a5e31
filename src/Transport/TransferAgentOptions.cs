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

    /// <summary>When set: mutual HMAC-SHA256 challenge–response at connect. Never sent on the wire.</summary>
    public byte[]? ClusterSecret { get; init; }

    /// <summary>Target side: may refuse a peer's write (leases). Null: every in-bounds write is allowed.</summary>
    public IWriteAuthorizer? Authorizer { get; init; }

    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Backends in order of preference; null: shared memory, verbs (offered only where an RDMA device is usable), then tcp. The agent disposes them.</summary>
    public IReadOnlyList<ITransferBackend>? Backends { get; init; }

    /// <summary>Largest control frame accepted (and data chunk); larger frames are a protocol error.</summary>
    public int MaxFrameBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Batches one connection may have in flight; further writes wait (back-pressure).</summary>
    public int MaxBatchesInFlight { get; init; } = 16;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a target waits for a connecting peer to finish the handshake.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Tests only: speak another protocol version.</summary>
    internal int? ProtocolVersionOverride { get; init; }

    /// <summary>Tests only: runs on the initiator after the batch's checksum was computed, before its bytes move.</summary>
    internal Action<Backends.PlannedBatch>? AfterChecksumForTests { get; init; }
}
