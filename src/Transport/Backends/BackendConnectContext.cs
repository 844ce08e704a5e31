using Microsoft.Extensions.Logging;

namespace PdRdma.Transport.Backends;

/// <summary>What a backend knows about a connection being set up. Valid for the connection's life.</summary>
public sealed class BackendConnectContext
{
    public required string LocalNodeId { get; init; }
    public required string PeerNodeId { get; init; }
    public required bool SameHost { get; init; }
    public required IReadOnlyDictionary<string, IMemoryRegion> LocalRegions { get; init; }
    public required IReadOnlyDictionary<string, RegionDescriptor> RemoteRegions { get; init; }
    public required IControlLink Control { get; init; }
    public required ILogger Logger { get; init; }

    /// <summary>Target side only: where a backend that carries whole batches hands them to the agent (null on the initiator).</summary>
    public ICarriedBatchTarget? Batches { get; init; }
}
