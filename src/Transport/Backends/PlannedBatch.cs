namespace PdRdma.Transport.Backends;

/// <summary>A batch the target accepted, after coalescing; <see cref="BatchId"/> is unique per connection.</summary>
public sealed record PlannedBatch(long BatchId, IReadOnlyList<PlannedWrite> Writes, long TotalBytes)
{
    /// <summary>For backends that carry whole batches: the notification delivered once every byte is placed.</summary>
    public byte[]? Notification { get; init; }

    /// <summary>For backends that carry whole batches: the checksum to verify on the target, and its value.</summary>
    public ChecksumKind Checksum { get; init; }

    public ulong ChecksumValue { get; init; }

    /// <summary>The grant the batch writes under when it goes through a published window (no proceed); null otherwise.</summary>
    public string? Grant { get; init; }
}
