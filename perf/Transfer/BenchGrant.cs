using PdRdma.Transport;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// The benchmark target's authorizer: any peer may write anywhere in the region, with or without a grant, and grant
/// <see cref="Name"/> covers the whole region for as long as the target runs. Initiators that name it
/// (<see cref="TransferPlan.Grant"/>) take the grant-window path on backends that publish windows (no proceed round trip).
/// </summary>
public sealed class BenchGrant(IMemoryRegion region) : IWriteAuthorizer
{
    /// <summary>The one grant of the benchmark target.</summary>
    public const string Name = "bench";

    public bool CanWrite(string peerNodeId, string regionId, long offset, long length) =>
        regionId == region.Id && offset >= 0 && length >= 0 && offset <= region.Length - length;

    public bool CanWrite(string peerNodeId, string? grant, string regionId, long offset, long length) =>
        (grant is null || grant == Name) && CanWrite(peerNodeId, regionId, offset, length);

    public GrantWindow? DescribeGrant(string peerNodeId, string grant) =>
        grant == Name ? new GrantWindow(grant, peerNodeId, [new GrantExtent(region.Id, 0, region.Length)], DateTimeOffset.UtcNow.AddDays(1), CancellationToken.None) : null;
}
