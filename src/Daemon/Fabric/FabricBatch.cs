namespace PdRdma.Daemon.Fabric;

/// <summary>
/// A batch of writes with an optional notification the target receives once all of them are in place, under the
/// target's grant <paramref name="Grant"/> (the request id of its lease) when set.
/// </summary>
public sealed record FabricBatch(IReadOnlyList<FabricWriteOp> Ops, byte[]? Notification = null, string? Grant = null)
{
    public long Bytes => Ops.Sum(o => o.Length);
}
