using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;
using TorchSharp;

namespace PdRdma.Tests.Engines;

public sealed class TinyRandomTests
{
    private static float[] FirstLogits(LoadedModel m)
    {
        using var pool = KvPool.Create(m.Config.KvLayout(16, 4), "test-tiny-" + Guid.NewGuid().ToString("N")[..8]);
        var table = new BlockTable(16);
        var tokens = m.Tokenizer.Encode("hello");
        table.EnsureCapacity(tokens.Length, pool.Allocator);
        using var logits = m.Model.Forward([new PdRdma.Engines.Model.ForwardItem(tokens, 0, table)], pool);
        return logits.data<float>().ToArray();
    }

    [Fact]
    public void SameSeedSameWeightsOtherSeedOtherWeights()
    {
        using var a = ModelSource.Load("tiny-random:seed=3");
        using var b = ModelSource.Load("tiny-random:seed=3");
        using var c = ModelSource.Load("tiny-random:seed=4");
        // Weights are bit-identical for one seed; logits only agree to rounding (the CPU kernels may pick other
        // code paths for other buffer alignments).
        Assert.True(a.Model.Weights.Layers[1].W2.allclose(b.Model.Weights.Layers[1].W2, rtol: 0, atol: 0));
        Assert.True(a.Model.Weights.Embedding.allclose(b.Model.Weights.Embedding, rtol: 0, atol: 0));
        Assert.False(a.Model.Weights.Layers[1].W2.allclose(c.Model.Weights.Layers[1].W2, rtol: 0, atol: 0));
        var la = FirstLogits(a);
        Assert.True(la.Zip(FirstLogits(b), (x, y) => MathF.Abs(x - y)).Max() < 1e-4f);
        Assert.True(la.Zip(FirstLogits(c), (x, y) => MathF.Abs(x - y)).Max() > 1e-2f);
    }

    [Fact]
    public void BFloat16SplitEqualsColocated()
    {
        using var m = ModelSource.Load("tiny-random:dim=128,layers=3,heads=4,kv_heads=2,hidden=256,dtype=bf16,rope=half");
        Assert.Equal(KvDType.BFloat16, m.Config.DType);
        var layout = m.Config.KvLayout(8, 32);
        Assert.Equal(2, layout.ElementSize);
        using var colocatedPool = KvPool.Create(layout, "test-tiny-c-" + Guid.NewGuid().ToString("N")[..8]);
        using var prefillPool = KvPool.Create(layout, "test-tiny-p-" + Guid.NewGuid().ToString("N")[..8]);
        using var decodePool = KvPool.Create(layout, "test-tiny-d-" + Guid.NewGuid().ToString("N")[..8]);
        var split = new InProcessSplit(new PrefillEngine(new LlamaEngine(m, prefillPool)), new DecodeEngine(new LlamaEngine(m, decodePool), TimeSpan.FromMinutes(1)));
        var colocated = new LlamaEngine(m, colocatedPool);
        foreach (var prompt in new[] { "a", "the quick brown fox jumps", "0123456789abcdefghij" })
        {
            var request = new GenerationRequest(m.Tokenizer.Encode(prompt), 25, new SamplingOptions(0.7f, 0.9f, 11));
            Assert.Equal(colocated.Generate(request).Generated, split.Generate(prompt, request).Generated);
        }
    }
}
