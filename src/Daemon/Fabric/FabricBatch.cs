namespace PdRdma.Daemon.Fabric;

/// <summary>A batch of writes with an optional notification the target receives once all of them are in place.</summary>
public sealed record FabricBatch(IReadOnlyList<FabricWriteOp> Ops, byte[]? Notification = null)
{
    public long Bytes => Ops.Sum(o => o.Length);
}
