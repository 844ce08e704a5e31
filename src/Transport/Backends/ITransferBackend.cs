namespace PdRdma.Transport.Backends;

/// <summary>
/// A way to move bytes between two agents. The agent only reads <see cref="Capabilities"/> and never checks the
/// type. One instance per agent, shared by all its connections: implementations are thread-safe.
/// Connection setup: <see cref="ConnectAsync"/> on the initiator and <see cref="AcceptAsync"/> on the target run at
/// the same time and may exchange opaque blobs through <see cref="BackendConnectContext.Control"/>
/// (verbs: QPN, PSN, GID, MTU); the control link stays up for the connection's life and carries every
/// batch's begin/proceed/commit/done frames.
/// </summary>
public interface ITransferBackend : IAsyncDisposable
{
    /// <summary>Short name sent on the wire and shown as <see cref="PeerConnection.Backend"/>: "shm", "tcp", "verbs".</summary>
    string Name { get; }

    BackendCapabilities Capabilities { get; }

    /// <summary>Whether the backend can run on this machine now; when not, <paramref name="reason"/> says why and how to fix it.</summary>
    bool IsAvailable(out string reason);

    /// <summary>Per-region keys a peer needs (verbs: address and rkey), or null. Called when the agent describes its regions.</summary>
    byte[]? DescribeRegion(IMemoryRegion region);

    /// <summary>Initiator side of a connection.</summary>
    Task<IBackendLink> ConnectAsync(BackendConnectContext context, CancellationToken ct);

    /// <summary>Target side of a connection.</summary>
    Task<IBackendLink> AcceptAsync(BackendConnectContext context, CancellationToken ct);
}
