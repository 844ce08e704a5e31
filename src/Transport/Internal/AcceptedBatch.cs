namespace PdRdma.Transport.Internal;

/// <summary>A batch the target validated as a whole and may now receive bytes for, until its deadline.</summary>
internal sealed class AcceptedBatch(long id, (IMemoryRegion Region, long Offset, long Length)[] writes, byte[]? notification, ChecksumKind checksum, string? grant, long deadlineTicks)
{
    public long Id { get; } = id;
    public (IMemoryRegion Region, long Offset, long Length)[] Writes { get; } = writes;
    public byte[]? Notification { get; } = notification;
    public ChecksumKind Checksum { get; } = checksum;

    /// <summary>The grant the initiator named; checked again as each chunk lands.</summary>
    public string? Grant { get; } = grant;

    /// <summary><see cref="Environment.TickCount64"/> past which the batch is refused with Timeout.</summary>
    public long DeadlineTicks { get; } = deadlineTicks;
    public long TotalBytes { get; } = writes.Sum(w => w.Length);
    public long ReceivedBytes { get; set; }
}
