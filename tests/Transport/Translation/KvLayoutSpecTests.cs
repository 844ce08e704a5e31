using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Tests.Transport.Translation;

[Trait("Category", "KvLayout")]
public sealed class KvLayoutSpecTests
{
    private static readonly KvLayout Model = new(layers: 5, kvHeads: 4, headDim: 8, tokensPerBlock: 16, KvDType.Float32, blocks: 10);

    [Fact]
    public void ASpecSplitsHeadsAndReplacesWhatItNames()
    {
        var rank1 = KvLayoutSpec.Parse("block=64,tp=2,order=head-major,outer=block-major,dtype=bf16").Apply(Model, rank: 1);
        Assert.Equal((64, 2, 2, 1, KvDType.BFloat16), (rank1.TokensPerBlock, rank1.KvHeads, rank1.TpDegree, rank1.TpRank, rank1.DType));
        Assert.Equal((KvTokenOrder.HeadMajor, KvBlockOrder.BlockMajor), (rank1.TokenOrder, rank1.BlockOrder));
        Assert.Equal(2, rank1.FirstHead);
        Assert.Equal(4, rank1.TotalKvHeads);
        Assert.Equal(Model, KvLayoutSpec.Parse("").Apply(Model));
    }

    [Theory]
    [InlineData("block")]
    [InlineData("block=0")]
    [InlineData("block=-4")]
    [InlineData("block=99999")]
    [InlineData("tp=two")]
    [InlineData("order=sideways")]
    [InlineData("outer=x")]
    [InlineData("dtype=int8")]
    [InlineData("colour=blue")]
    public void HostileSpecsAreRefusedNamingTheKey(string spec)
    {
        Assert.Throws<ArgumentException>(() => KvLayoutSpec.Parse(spec));
        Assert.Throws<ArgumentException>(() => KvLayoutSpec.Parse(new string('x', 500)));
    }

    [Fact]
    public void ATpThatDoesNotDivideTheHeadsIsALayoutMismatch()
    {
        Assert.Equal(TransferErrorCode.LayoutMismatch, Assert.Throws<TransferException>(() => KvLayoutSpec.Parse("tp=3").Apply(Model)).Code);
    }

    [Fact]
    public void ExtentsOfEveryOrderTileThePool()
    {
        foreach (var spec in new[] { "", "outer=block-major", "order=head-major", "outer=block-major,order=head-major,tp=2" })
        {
            var layout = KvLayoutSpec.Parse(spec).Apply(Model);
            var seen = new SortedSet<long>();
            for (int l = 0; l < layout.Layers; l++)
                foreach (var part in new[] { KvPart.Key, KvPart.Value })
                    for (int b = 0; b < layout.Blocks; b++)
                        for (int t = 0; t < layout.TokensPerBlock; t++)
                            for (int h = 0; h < layout.KvHeads; h++)
                                Assert.True(seen.Add(layout.Extent(l, part, b).Offset + layout.OffsetInBlock(t, h)));
            Assert.Equal(0, seen.Min);
            Assert.Equal(layout.TotalBytes - layout.HeadDim * layout.ElementSize, seen.Max);
        }
    }

    [Fact]
    public void LayoutsRoundTripOnTheWireAndOldSixKeyLayoutsReadAsDefaults()
    {
        var layout = KvLayoutSpec.Parse("block=32,tp=2,order=head-major,outer=block-major").Apply(Model, 1);
        Assert.Equal(layout, MessagePackSerializer.Deserialize<KvLayout>(MessagePackSerializer.Serialize(layout)));
        var old = MessagePackSerializer.Serialize(new object[] { 5, 4, 8, 16, 0, 10 });
        Assert.Equal(Model, MessagePackSerializer.Deserialize<KvLayout>(old));
        Assert.Equal(Model.CompatibilityHash(), new KvLayout(5, 4, 8, 16, KvDType.Float32, 99).CompatibilityHash());
        Assert.NotEqual(Model.CompatibilityHash(), Model.WithOrder(KvBlockOrder.LayerMajor, KvTokenOrder.HeadMajor).CompatibilityHash());
        Assert.Equal(TransferErrorCode.LayoutMismatch,
            Assert.Throws<TransferException>(() => Model.EnsureCompatibleWith(Model.WithOrder(KvBlockOrder.BlockMajor, KvTokenOrder.TokenMajor))).Code);
    }

    [Fact]
    public void LayoutsRoundTripThroughJsonAndOldJsonReadsAsDefaults()
    {
        var layout = KvLayoutSpec.Parse("block=32,tp=2,order=head-major").Apply(Model, 1);
        Assert.Equal(layout, System.Text.Json.JsonSerializer.Deserialize<KvLayout>(System.Text.Json.JsonSerializer.Serialize(layout)));
        const string old = """{"Layers":5,"KvHeads":4,"HeadDim":8,"TokensPerBlock":16,"DType":0,"Blocks":10}""";
        Assert.Equal(Model, System.Text.Json.JsonSerializer.Deserialize<KvLayout>(old));
    }
}
