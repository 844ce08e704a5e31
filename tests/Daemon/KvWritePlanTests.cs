using PdRdma.Daemon.Engine;
using PdRdma.Transport;

namespace PdRdma.Tests.Daemon;

public sealed class KvWritePlanTests
{
    [Fact]
    public void AdjacentBlocksOnBothSidesBecomeOneOp()
    {
        var source = new KvLayout(2, 2, 4, 4, KvDType.Float32, blocks: 16);
        var target = new KvLayout(2, 2, 4, 4, KvDType.Float32, blocks: 32);
        var ops = KvWritePlan.Build("s", source, "t", target, [0], [3, 4, 5, 9], [10, 11, 12, 13]);
        // K: 3-5 → 10-12 coalesced, 9 → 13 alone; V likewise.
        Assert.Equal(4, ops.Count);
        Assert.Equal(source.BlockBytes * 3, ops[0].Length);
        Assert.Equal(source.Extent(0, KvPart.Key, 3).Offset, ops[0].SourceOffset);
        Assert.Equal(target.Extent(0, KvPart.Key, 10).Offset, ops[0].TargetOffset);
        Assert.Equal(source.BlockBytes * 8, ops.Sum(o => o.Length));
    }

    [Fact]
    public void AMismatchedLayoutNamesTheField()
    {
        var source = new KvLayout(2, 2, 4, 4, KvDType.Float32, blocks: 16);
        var target = new KvLayout(2, 2, 4, 8, KvDType.Float32, blocks: 16);
        var error = Assert.Throws<TransferException>(() => KvWritePlan.Build("s", source, "t", target, [0], [1], [1]));
        Assert.Equal(TransferErrorCode.LayoutMismatch, error.Code);
        Assert.Contains("TokensPerBlock", error.Message);
    }
}
