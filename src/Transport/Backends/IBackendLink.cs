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

    /// <summary>
    /// Initiator, backends with <see cref="BackendCapabilities.CarriesBatches"/>: whether this batch can travel on the
    /// backend's own channel (false: the agent uses the control-link flow for it). Called once per batch.
    /// </summary>
    bool CanCarry(PlannedBatch batch) => false;

    /// <summary>
    /// Initiator: carries a whole batch (checks it against what the target published, places every byte, posts it with
    /// its notification and checksum) and completes when the target finished it: placed, checksum matched, notification
    /// delivered. Faults with the target's typed refusal, or locally (AccessDenied, OutOfBounds, UnknownRegion: nothing
    /// copied). Cancelling before the batch is posted sends nothing; after, the wait is abandoned and the target still
    /// finishes the batch. The source memory is borrowed until it completes.
    /// </summary>
    ValueTask CarryAsync(PlannedBatch batch, CancellationToken ct) =>
        throw new TransferException(TransferErrorCode.Unsupported, "this backend does not carry whole batches");

    /// <summary>Initiator: the connection failed (peer lost, protocol error); every batch the link still carries faults with <paramref name="reason"/>.</summary>
    void Fail(TransferException reason)
    {
    }
}
