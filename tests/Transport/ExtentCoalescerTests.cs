using PdRdma.Transport;

namespace PdRdma.Tests.Transport;

public sealed class ExtentCoalescerTests
{
    [Fact]
    public void WritesContiguousOnBothSidesMerge()
    {
        var merged = ExtentCoalescer.Coalesce([new WriteOp("s", 0, "t", 100, 10), new WriteOp("s", 10, "t", 110, 5), new WriteOp("s", 15, "t", 115, 1)]);
        Assert.Equal([new WriteOp("s", 0, "t", 100, 16)], merged);
    }

    [Fact]
    public void WritesContiguousOnOneSideOnlyOrAcrossRegionsStaySeparate()
    {
        WriteOp[] ops =
        [
            new("s", 0, "t", 0, 10),
            new("s", 10, "t", 20, 10),   // target gap
            new("s", 30, "t", 30, 10),   // source gap
            new("x", 40, "t", 40, 10),   // other source region
            new("x", 50, "u", 50, 10),   // other target region
        ];
        Assert.Equal(ops, ExtentCoalescer.Coalesce(ops));
    }

    [Fact]
    public void OrderIsKeptSoOverlapsAndChecksumsMeanTheSame()
    {
        WriteOp[] ops = [new("s", 10, "t", 10, 10), new("s", 0, "t", 0, 10)];
        Assert.Equal(ops, ExtentCoalescer.Coalesce(ops));
    }

    [Fact]
    public void AllBlocksOfALayerInOrderBecomeOneWritePerPart()
    {
        var layout = new KvLayout(layers: 4, kvHeads: 2, headDim: 8, tokensPerBlock: 16, KvDType.BFloat16, blocks: 32);
        var pairs = new List<(ByteExtent, ByteExtent)>();
        foreach (var part in new[] { KvPart.Key, KvPart.Value })
            for (var block = 4; block < 12; block++)
                pairs.Add((layout.Extent(2, part, block), layout.Extent(2, part, block + 10)));
        var merged = ExtentCoalescer.Coalesce(pairs);
        Assert.Equal(2, merged.Count);
        Assert.All(merged, m => Assert.Equal(8 * layout.BlockBytes, m.Source.Length));
    }
}
