namespace PdRdma.Transport.Backends;

/// <summary>
/// One backend's side of one peer connection. Batch flow (the agent drives it over the control link):
/// initiator sends begin → target validates the whole batch → proceed → initiator <see cref="WriteAsync"/> →
/// commit → target <see cref="WaitPlacedAsync"/>, checksum, notification → done.
/// Several batches may be in <see cref="WriteAsync"/> at once: implementations are thread-safe.
/// </summary>
public interface IBackendLink : IAsyncDisposable
{
    /// <summary>
    /// Initiator: moves every byte of a batch the target accepted. Completes when the bytes are placed in the peer's
    /// memory (one-sided backends: shm copy done, RDMA WRITE completions) or queued on the control link ahead of the
    /// batch's commit (tcp). Faults with <see cref="TransferException"/> (PeerLost, AccessDenied, ...).
    /// The source memory is borrowed until it completes.
    /// </summary>
    ValueTask WriteAsync(PlannedBatch batch, CancellationToken ct);

    /// <summary>
    /// Target: completes once every byte the initiator wrote for <paramref name="batchId"/> is visible in local memory
    /// (verbs: the WRITE_WITH_IMM carrying the batch id was received). Called when the commit frame arrives, before the
    /// checksum and the notification.
    /// </summary>
    ValueTask WaitPlacedAsync(long batchId, CancellationToken ct);

    /// <summary>
    /// Target: the peer opened <paramref name="window"/> (its capabilities say <see cref="BackendCapabilities.GrantWindows"/>).
    /// Publish it so the peer can write there without asking (verbs: bind memory windows on the peer's queue pair; shm:
    /// enter it in the shared grant table) and revoke it when <see cref="GrantWindow.Ended"/> fires. Returns what the
    /// initiator needs to write there (verbs: the windows' rkeys), or null.
    /// </summary>
    ValueTask<byte[]?> PublishGrantAsync(GrantWindow window, CancellationToken ct) => ValueTask.FromResult<byte[]?>(null);

    /// <summary>
    /// Initiator: the target published <paramref name="window"/> with <paramref name="blob"/> (what
    /// <see cref="PublishGrantAsync"/> returned there). Later batches naming the grant (<see cref="PlannedBatch.Grant"/>)
    /// are written at once, without a proceed; each of their writes lies inside the window.
    /// </summary>
    void AcceptGrant(GrantWindow window, byte[]? blob)
    {
    }
}
