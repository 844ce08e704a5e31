namespace PdRdma.Transport.Internal;

/// <summary>A batch the target validated as a whole and may now receive bytes for.</summary>
internal sealed class AcceptedBatch(long id, (IMemoryRegion Region, long Offset, long Length)[] writes, byte[]? notification, ChecksumKind checksum)
{
    public long Id { get; } = id;
    public (IMemoryRegion Region, long Offset, long Length)[] Writes { get; } = writes;
    public byte[]? Notification { get; } = notification;
    public ChecksumKind Checksum { get; } = checksum;
    public long TotalBytes { get; } = writes.Sum(w => w.Length);
    public long ReceivedBytes { get; set; }
}
