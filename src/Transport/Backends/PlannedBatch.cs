namespace PdRdma.Transport.Backends;

/// <summary>A batch the target accepted, after coalescing; <see cref="BatchId"/> is unique per connection.</summary>
public sealed record PlannedBatch(long BatchId, IReadOnlyList<PlannedWrite> Writes, long TotalBytes)
{
    /// <summary>The grant the batch writes under when it goes through a published window (no proceed); null otherwise.</summary>
    public string? Grant { get; init; }
}
