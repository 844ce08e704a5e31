using PdRdma.Transport;

namespace PdRdma.Daemon.Leases;

/// <summary>Blocks of one pool granted to one peer for one request. Mutated only under the owning <see cref="LeaseTable"/>'s lock.</summary>
public sealed class Lease
{
    public required string LeaseId { get; init; }
    public required string RequestId { get; init; }
    public required string PoolId { get; init; }
    public required KvLayout Layout { get; init; }
    public required IReadOnlySet<int> Blocks { get; init; }
    public required string PeerNodeId { get; init; }
    public required long OwnerSession { get; init; }
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Every byte arrived: the peer may no longer write; the blocks stay with the engine until it releases them.</summary>
    public bool Arrived { get; set; }

    /// <summary>Fires when the lease ends (released, arrived, expired, its engine gone) or at its expiry, whichever is first.</summary>
    internal CancellationTokenSource Ending { get; init; } = new();
}
