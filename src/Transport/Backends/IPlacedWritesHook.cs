namespace PdRdma.Transport.Backends;

/// <summary>
/// Optional on an <see cref="IBackendLink"/>: the target agent calls it once a batch is placed (after
/// <see cref="IBackendLink.WaitPlacedAsync"/>, before the checksum and the notification) with the batch's validated
/// writes, so a backend that landed bytes in a bounce buffer (verbs host staging of device memory) moves them into
/// place. Exceptions fail the batch.
/// </summary>
internal interface IPlacedWritesHook
{
    void OnPlaced(IReadOnlyList<(IMemoryRegion Region, long Offset, long Length)> writes);
}
