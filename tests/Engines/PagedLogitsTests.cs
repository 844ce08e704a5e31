using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Model;
using static TorchSharp.torch;

namespace PdRdma.Tests.Engines;

public sealed class PagedLogitsTests
{
    [Fact]
    public void PagedLogitsMatchAPlainFullSequenceForwardAcrossBlockBoundaries()
    {
        using var model = ModelSource.Load(TestModels.Stories260K);
        var reference = new ReferenceLlama2c(TestModels.Stories260K);
        var tokens = model.Tokenizer.Encode("Once upon a time, there was a little girl named Lily. She loved to play outside.");
        Assert.True(tokens.Length > 20);
        var expected = reference.Forward(tokens);

        // 3 tokens per block: the prompt (10 tokens) ends mid-block and decoding crosses many boundaries.
        using var pool = KvPool.Create(model.Config.KvLayout(tokensPerBlock: 3, blocks: 40), "test-paged-" + Guid.NewGuid().ToString("N")[..8]);
        var table = new BlockTable(3);
        var other = new BlockTable(3);
        const int promptLength = 10;
        table.EnsureCapacity(promptLength, pool.Allocator);
        var actual = new List<float[]>();
        using (var logits = model.Model.Forward([new ForwardItem(tokens[..promptLength], 0, table)], pool, allPositions: true))
        {
            for (int t = 0; t < promptLength; t++) actual.Add(logits[0, t].data<float>().ToArray());
        }
        // Decode the rest one position at a time, batched with a second sequence of another length.
        other.EnsureCapacity(4, pool.Allocator);
        using (model.Model.Forward([new ForwardItem(tokens[..4], 0, other)], pool)) { }
        int otherPos = 4;
        for (int pos = promptLength; pos < tokens.Length; pos++)
        {
            table.EnsureCapacity(pos + 1, pool.Allocator);
            other.EnsureCapacity(otherPos + 1, pool.Allocator);
            using var logits = model.Model.Forward([new ForwardItem([tokens[pos]], pos, table), new ForwardItem([tokens[otherPos % tokens.Length]], otherPos, other)], pool);
            actual.Add(logits[0].data<float>().ToArray());
            otherPos++;
        }

        for (int pos = 0; pos < tokens.Length; pos++)
        {
            var diff = expected[pos].Zip(actual[pos], (a, b) => MathF.Abs(a - b)).Max();
            Assert.True(diff < 1e-4f, $"position {pos}: max |logit difference| {diff}");
        }
    }

    [Fact]
    public void BFloat16WeightsAndCacheStayCloseToFloat32()
    {
        using var f32 = ModelSource.Load(TestModels.Stories260K);
        using var bf16 = ModelSource.Load(TestModels.Stories260K, new ModelLoadOptions { DType = PdRdma.Transport.KvDType.BFloat16 });
        var tokens = f32.Tokenizer.Encode("Once upon a time");
        float[] Run(LoadedModel m)
        {
            using var pool = KvPool.Create(m.Config.KvLayout(16, 4), "test-bf16-" + Guid.NewGuid().ToString("N")[..8]);
            Assert.Equal(ScalarType.BFloat16 == pool.ScalarType, m.Config.DType == PdRdma.Transport.KvDType.BFloat16);
            var table = new BlockTable(16);
            table.EnsureCapacity(tokens.Length, pool.Allocator);
            using var logits = m.Model.Forward([new ForwardItem(tokens, 0, table)], pool);
            return logits.data<float>().ToArray();
        }
        var a = Run(f32);
        var b = Run(bf16);
        var maxDiff = a.Zip(b, (x, y) => MathF.Abs(x - y)).Max();
        var range = a.Max() - a.Min();
        Assert.True(maxDiff < 0.1f * range, $"bf16 logits differ by {maxDiff} (range {range})");
        Assert.Equal(PdRdma.Engines.Sampling.Sampler.ArgMax(a), PdRdma.Engines.Sampling.Sampler.ArgMax(b));
    }
}
