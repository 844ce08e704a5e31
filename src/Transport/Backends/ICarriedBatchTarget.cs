namespace PdRdma.Transport.Backends;

/// <summary>
/// The agent's side of a connection for backends that carry whole batches themselves
/// (<see cref="BackendCapabilities.CarriesBatches"/>): a batch that arrived on the backend's own channel gets exactly
/// the checks and delivery a control-link batch gets. Given to the target's <see cref="ITransferBackend.AcceptAsync"/>
/// in <see cref="BackendConnectContext.Batches"/>. Thread-safe; called from the backend's consumer thread; no call blocks.
/// </summary>
public interface ICarriedBatchTarget
{
    /// <summary>
    /// Whether the agent checks writes against grants (an authorizer is set). A batch must then name a grant whose window
    /// the initiator checked before it copied a byte; batches without one take the control-link path.
    /// </summary>
    bool RequiresGrant { get; }

    /// <summary>Most writes one batch may hold (the agent's limit); an initiator sends a bigger batch the control-link way, to be refused before it copies.</summary>
    int MaxWritesPerBatch { get; }

    /// <summary>Most bytes one batch may carry (the agent's bytes-in-flight limit per peer), likewise.</summary>
    long MaxBatchBytes { get; }

    /// <summary>
    /// Checks a whole batch as a control-link begin is checked (limits, region names, bounds, memory kinds, the
    /// authorizer under <paramref name="grant"/>); throws <see cref="TransferException"/> with the typed refusal.
    /// <paramref name="write"/> returns write i's region name, offset and length. Returns the resolved writes.
    /// </summary>
    (IMemoryRegion Region, long Offset, long Length)[] Validate(long batchId, string? grant, int writeCount,
        Func<int, (string Region, long Offset, long Length)> write, int notificationBytes, ChecksumKind checksum);

    /// <summary>
    /// The batch's bytes are placed: verifies the checksum when asked (throws ChecksumMismatch, nothing notified) and
    /// delivers the notification through the agent's notification channel.
    /// </summary>
    void Complete(long batchId, (IMemoryRegion Region, long Offset, long Length)[] writes, byte[]? notification, ChecksumKind checksum, ulong expected);

    /// <summary>The channel is beyond repair (a malformed record): the agent sends <paramref name="reason"/> and closes the connection.</summary>
    void Fail(TransferException reason);
}
