using PdRdma.Transport;

namespace PdRdma.Tests.Transport;

public sealed class KvLayoutTests
{
    private static readonly KvLayout Layout = new(layers: 3, kvHeads: 4, headDim: 8, tokensPerBlock: 16, KvDType.Float32, blocks: 10);

    [Fact]
    public void ExtentsTileThePoolWithoutOverlap()
    {
        var extents = new List<ByteExtent>();
        for (var l = 0; l < Layout.Layers; l++)
            foreach (var part in new[] { KvPart.Key, KvPart.Value })
                for (var b = 0; b < Layout.Blocks; b++)
                    extents.Add(Layout.Extent(l, part, b));
        var sorted = extents.OrderBy(e => e.Offset).ToList();
        Assert.Equal(0, sorted[0].Offset);
        for (var i = 1; i < sorted.Count; i++) Assert.Equal(sorted[i - 1].End, sorted[i].Offset);
        Assert.Equal(Layout.TotalBytes, sorted[^1].End);
        Assert.Equal(16 * 4 * 8 * 4, Layout.BlockBytes);
    }

    [Fact]
    public void PoolsOfDifferentSizeAreCompatible()
    {
        var other = new KvLayout(3, 4, 8, 16, KvDType.Float32, blocks: 99);
        Layout.EnsureCompatibleWith(other);
        Assert.Equal(Layout.CompatibilityHash(), other.CompatibilityHash());
    }

    [Fact]
    public void MismatchNamesTheField()
    {
        var other = new KvLayout(3, 4, 16, 16, KvDType.Float32, blocks: 10);
        var error = Assert.Throws<TransferException>(() => Layout.EnsureCompatibleWith(other));
        Assert.Equal(TransferErrorCode.LayoutMismatch, error.Code);
        Assert.Contains("HeadDim", error.Message);
        Assert.NotEqual(Layout.CompatibilityHash(), other.CompatibilityHash());
    }
}
