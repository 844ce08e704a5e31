using PdRdma.Transport.Backends.SharedMemory.Internal;

namespace PdRdma.Transport.Backends.SharedMemory;

/// <summary>
/// Target: the connection's channel (its consumer thread serves the peer's batch records) and the grants published
/// in its table. Batches that take the control link (no channel for them) were copied by the initiator before their
/// commit, so they are placed by the time the commit arrives.
/// </summary>
internal sealed class SharedMemoryTargetLink(TargetChannel channel) : IBackendLink
{
    private readonly List<CancellationTokenRegistration> _revocations = [];
    private int _disposed;

    public ValueTask WriteAsync(PlannedBatch batch, CancellationToken ct) =>
        throw new TransferException(TransferErrorCode.Protocol, "shm: the target side of a connection writes nothing");

    public ValueTask WaitPlacedAsync(long batchId, CancellationToken ct) => ValueTask.CompletedTask;

    /// <summary>Enters the grant in the table the initiator maps read-only; it is marked not live the moment it ends.</summary>
    public ValueTask<byte[]?> PublishGrantAsync(GrantWindow window, CancellationToken ct)
    {
        if (channel.Publish(window.Grant, window.Expires) is not { } entry)
        {
            // a full table: the grant's batches are still served, each checked before its data moves
            return ValueTask.FromResult<byte[]?>(null);
        }
        var revocation = window.Ended.Register(() => channel.Revoke(entry.Slot, entry.Generation));
        lock (_revocations) _revocations.Add(revocation);
        return ValueTask.FromResult<byte[]?>(GrantSlotBlob.Write(entry.Slot, entry.Generation));
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            lock (_revocations)
            {
                foreach (var revocation in _revocations) revocation.Dispose();
            }
            channel.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
