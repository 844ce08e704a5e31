using PdRdma.Transport;
using PdRdma.Transport.Translation;

namespace PdRdma.Tests.Transport.Translation;

/// <summary>
/// The translation planner, element by element: a source pool filled with a distinct value per (layer, K|V, position,
/// head, dim) is translated into a target pool of another block size, order, head split or dtype, and every element
/// the target holds is read back by its own coordinates; bytes outside the reserved blocks stay untouched.
/// </summary>
[Trait("Category", "KvLayout")]
public sealed class KvTranslationPlannerTests
{
    private static readonly KvLayout Model = new(layers: 3, kvHeads: 4, headDim: 8, tokensPerBlock: 16, KvDType.Float32, blocks: 12);

    public static TheoryData<string, string> Differences => new()
    {
        { "block=16", "block=16" },
        { "block=16", "block=64" },
        { "block=64", "block=16" },
        { "block=16", "order=head-major" },
        { "order=head-major", "block=8" },
        { "block=16", "outer=block-major" },
        { "outer=block-major,order=head-major,block=32", "block=16" },
        { "block=16,tp=2", "block=64,order=head-major,tp=1" },
        { "tp=1", "tp=2" },
        { "tp=2", "tp=4,block=8" },
        { "dtype=f32", "dtype=bf16" },
        { "dtype=bf16", "dtype=f32,block=64" },
        { "dtype=f32", "dtype=f16,order=head-major" },
        { "dtype=f16,tp=2", "dtype=bf16,tp=1" },
    };

    [Theory]
    [MemberData(nameof(Differences))]
    public void EveryElementTheTargetHoldsArrivesAtItsCoordinates(string sourceSpec, string targetSpec)
    {
        const int positions = 70;
        var sourceSpecParsed = KvLayoutSpec.Parse(sourceSpec);
        var targetSpecParsed = KvLayoutSpec.Parse(targetSpec);
        var targets = Enumerable.Range(0, targetSpecParsed.TpDegree).Select(r => targetSpecParsed.Apply(Model, r)).ToList();
        var targetBytes = targets.Select(t => new byte[t.TotalBytes]).ToList();
        var targetBlocks = targets.Select(t => Blocks(t, positions, offset: 2, reverse: true)).ToList();

        for (int rank = 0; rank < sourceSpecParsed.TpDegree; rank++)
        {
            var source = sourceSpecParsed.Apply(Model, rank);
            var sourceBlocks = Blocks(source, positions, offset: 1, reverse: false);
            var sourceBytes = LogicalKv.Fill(source, sourceBlocks, positions, modulo: 200);
            for (int t = 0; t < targets.Count; t++)
            {
                var plan = KvTranslationPlanner.Plan(source, sourceBlocks, targets[t], targetBlocks[t], positions);
                var staging = new byte[plan.StagingBytes];
                KvTranslationExecutor.Stage(plan, sourceBytes, staging);
                KvTranslationExecutor.Copy(plan, plan.UsesStaging ? staging : sourceBytes, targetBytes[t]);
                Assert.Equal(source.DType != targets[t].DType, plan.UsesStaging);
            }
        }

        for (int t = 0; t < targets.Count; t++)
        {
            var target = targets[t];
            var touched = new bool[target.TotalBytes];
            LogicalKv.Visit(target, targetBlocks[t], positions, (offset, l, part, p, h, d) =>
            {
                var expected = LogicalKv.Value(l, part, p, h, d, 200);
                Assert.Equal(expected, LogicalKv.Read(targetBytes[t].AsSpan((int)offset), target.DType));
                for (int i = 0; i < target.ElementSize; i++) touched[offset + i] = true;
            });
            for (int i = 0; i < touched.Length; i++)
            {
                if (!touched[i]) Assert.True(targetBytes[t][i] == 0, $"byte {i} of target rank {t} outside the sequence was written");
            }
        }
    }

    [Fact]
    public void IdenticalLayoutsWithContiguousBlocksCoalesceToOneCopyPerLayerAndPart()
    {
        var plan = KvTranslationPlanner.Plan(Model, [0, 1, 2], Model, [5, 6, 7], positions: 48);
        Assert.True(plan.IsIdentity);
        Assert.Equal(Model.Layers * 2, plan.Copies.Count);
        Assert.All(plan.Copies, c => Assert.Equal(3 * Model.BlockBytes, c.Length));
        Assert.Empty(plan.Conversions);
    }

    [Fact]
    public void ADifferentOrderCostsOneCopyPerRow()
    {
        var target = Model.WithOrder(KvBlockOrder.LayerMajor, KvTokenOrder.HeadMajor);
        var plan = KvTranslationPlanner.Plan(Model, [0], target, [0], positions: 16);
        Assert.Equal(Model.Layers * 2 * 16 * Model.KvHeads, plan.Copies.Count);
        Assert.All(plan.Copies, c => Assert.Equal(Model.HeadDim * 4, c.Length));
    }

    [Fact]
    public void PerLayerPlansTogetherAreTheWholePlan()
    {
        var target = KvLayoutSpec.Parse("block=64,dtype=bf16").Apply(Model);
        var whole = KvTranslationPlanner.Plan(Model, [3, 4, 5], target, [1], positions: 40);
        var layers = Enumerable.Range(0, Model.Layers).Select(l => KvTranslationPlanner.Plan(Model, [3, 4, 5], target, [1], positions: 40, layer: l)).ToList();
        Assert.Equal(whole.Bytes, layers.Sum(p => p.Bytes));
        Assert.Equal(whole.StagingBytes, layers.Sum(p => p.StagingBytes));
        Assert.Equal(40L * 4 * 8 * 2 * 2 * Model.Layers, whole.Bytes);
    }

    [Fact]
    public void RanksWithNoCommonHeadsGetAnEmptyPlan()
    {
        var rank0 = KvLayoutSpec.Parse("tp=2").Apply(Model, 0);
        var rank1 = KvLayoutSpec.Parse("tp=2").Apply(Model, 1);
        var plan = KvTranslationPlanner.Plan(rank0, [0], rank1, [0], positions: 10);
        Assert.Empty(plan.Copies);
    }

    [Fact]
    public void BlocksThatCannotHoldThePositionsOrLieOutsideThePoolAreRefused()
    {
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => KvTranslationPlanner.Plan(Model, [0], Model, [0, 1], positions: 17)).Code);
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => KvTranslationPlanner.Plan(Model, [0, 1], Model, [0, 12], positions: 17)).Code);
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => KvTranslationPlanner.Plan(Model, [-1], Model, [0], positions: 1)).Code);
        Assert.Throws<ArgumentOutOfRangeException>(() => KvTranslationPlanner.Plan(Model, [0], Model, [0], positions: 1, layer: 3));
    }

    [Fact]
    public void PoolsOfDifferentModelsAreNotTranslatable()
    {
        var other = new KvLayout(layers: 3, kvHeads: 2, headDim: 8, tokensPerBlock: 16, KvDType.Float32, blocks: 12);
        var e = Assert.Throws<TransferException>(() => KvTranslationPlanner.Plan(Model, [0], other, [0], positions: 1));
        Assert.Equal(TransferErrorCode.LayoutMismatch, e.Code);
        Assert.Contains("TotalKvHeads", e.Message, StringComparison.Ordinal);
        var halves = KvLayoutSpec.Parse("tp=2").Apply(Model);
        KvTranslationPlanner.Plan(halves, [0], Model, [0], positions: 1);
    }

    private static int[] Blocks(KvLayout layout, int positions, int offset, bool reverse)
    {
        int needed = (positions + layout.TokensPerBlock - 1) / layout.TokensPerBlock;
        var blocks = Enumerable.Range(offset, needed).ToArray();
        if (reverse) Array.Reverse(blocks);
        return blocks;
    }
}
