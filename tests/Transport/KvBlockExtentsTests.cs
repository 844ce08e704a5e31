using PdRdma.Daemon.Engine;
using PdRdma.Engines.Split;
using PdRdma.Transport;

namespace PdRdma.Tests.Transport;

/// <summary>The transport's one block-list-to-extents mapping, and that the daemon's plan and the in-process handoff agree with it.</summary>
public sealed class KvBlockExtentsTests
{
    private static readonly KvLayout Source = new(3, 2, 4, 4, KvDType.Float32, blocks: 16);
    private static readonly KvLayout Target = new(3, 2, 4, 4, KvDType.Float32, blocks: 40);

    [Fact]
    public void AdjacentOnBothSidesMergeAndEveryUserGetsTheSameExtents()
    {
        int[] from = [3, 4, 5, 9, 10], to = [20, 21, 22, 30, 32];
        var map = KvBlockExtents.Map(Source, from, Target, to, [1]);
        // K: 3-5 → 20-22 one extent, 9 → 30, 10 → 32 (not adjacent on the target); V likewise.
        Assert.Equal(6, map.Count);
        Assert.Equal(3 * Source.BlockBytes, map[0].Source.Length);
        Assert.Equal(10 * Source.BlockBytes, map.Sum(p => p.Source.Length));
        Assert.All(map, p => Assert.Equal(p.Source.Length, p.Target.Length));

        var plan = KvWritePlan.Build("s", Source, "t", Target, [1], from, to);
        Assert.Equal(map.Select(p => (p.Source.Offset, p.Target.Offset, p.Source.Length)), plan.Select(o => (o.SourceOffset, o.TargetOffset, o.Length)));
        var handoff = KvHandoff.LayerCopies(Source, from, Target, to, 1);
        Assert.Equal(map.Select(p => (p.Source.Offset, p.Target.Offset, p.Source.Length)), handoff.Select(c => (c.SourceOffset, c.TargetOffset, c.Length)));
    }

    [Fact]
    public void HostileBlockListsAreRefusedWithTypedErrors()
    {
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => KvBlockExtents.Map(Source, [1, 2], Target, [1], [0])).Code);
        Assert.Equal(TransferErrorCode.LayoutMismatch,
            Assert.Throws<TransferException>(() => KvBlockExtents.Map(Source, [1], new KvLayout(3, 2, 4, 8, KvDType.Float32, 16), [1], [0])).Code);
        Assert.ThrowsAny<Exception>(() => KvBlockExtents.Map(Source, [99], Target, [1], [0]));
        Assert.ThrowsAny<Exception>(() => KvBlockExtents.Map(Source, [1], Target, [1], [7]));
    }
}
