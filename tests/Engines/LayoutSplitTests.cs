using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Model;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;
using PdRdma.Transport.Translation;

namespace PdRdma.Tests.Engines;

/// <summary>
/// Prefill and decode with different KV layouts on stories260K: each difference (block size 16 → 64 and 64 → 16,
/// order, TP 2 → 1 and 1 → 2) gives temperature-0 output identical to colocated generation. A dtype change gives the
/// same greedy tokens for 100 steps as colocated generation whose pool is in the target dtype, and first-step logits
/// within the target dtype's rounding (bf16: 0.15, f16: 0.02 absolute; stories260K's logits reach about 16) of the
/// decode on the same KV without conversion.
/// </summary>
[Collection(StoriesCollection.Name)]
[Trait("Category", "KvLayout")]
public sealed class LayoutSplitTests(StoriesFixture stories, Xunit.Abstractions.ITestOutputHelper output)
{
    private const string Prompt = "Once upon a time, there was a little girl named Lily. She loved to play";

    public static TheoryData<string, string> Differences => new()
    {
        { "block=16", "block=64" },
        { "block=64", "block=16" },
        { "block=16", "order=head-major" },
        { "order=head-major,outer=block-major", "block=16" },
        { "block=16,tp=2", "block=16,tp=1" },
        { "block=16,tp=1", "block=16,tp=2" },
        { "block=16,tp=2", "block=64,order=head-major,tp=1" },
        { "block=8,tp=4", "block=32,outer=block-major,tp=2" },
    };

    [Theory]
    [MemberData(nameof(Differences))]
    public void GreedyOutputIsIdenticalToColocated(string prefillSpec, string decodeSpec)
    {
        var request = new GenerationRequest(stories.Model.Tokenizer.Encode(Prompt), 40, SamplingOptions.Greedy);
        var expected = stories.Colocated.Generate(request).Generated;

        using var prefillPool = Pool(prefillSpec, "pf");
        using var decodePool = Pool(decodeSpec, "dc");
        using var split = new LayoutSplit(new PrefillEngine(new LlamaEngine(stories.Model, prefillPool)),
            new DecodeEngine(new LlamaEngine(stories.Model, decodePool), TimeSpan.FromMinutes(5)), KvLayoutSpec.Parse(prefillSpec), KvLayoutSpec.Parse(decodeSpec));
        var actual = split.Generate("layout-" + Guid.NewGuid().ToString("N")[..6], request).Generated;

        Assert.Equal(expected, actual);
        Assert.True(split.LastTransferBytes > 0);
        Assert.Equal(KvLayoutSpec.Parse(prefillSpec).TpDegree, split.Sources.Count);
        Assert.Equal(KvLayoutSpec.Parse(decodeSpec).TpDegree, split.Targets.Count);
    }

    [Theory]
    [InlineData("dtype=f32", "dtype=bf16")]
    [InlineData("dtype=f32", "dtype=f16,block=64")]
    [InlineData("dtype=bf16", "dtype=f32,order=head-major")]
    public void ADtypeChangeKeepsLogitsCloseAndGreedyTokensEqualForAHundredSteps(string prefillSpec, string decodeSpec)
    {
        var tolerance = KvLayoutSpec.Parse(prefillSpec).DType is KvDType.BFloat16 || KvLayoutSpec.Parse(decodeSpec).DType is KvDType.BFloat16 ? 0.15f : 0.02f;
        var prompt = stories.Model.Tokenizer.Encode(Prompt);
        var targetDType = KvLayoutSpec.Parse(decodeSpec).DType!.Value;

        // The reference: a decode that ran in the target dtype on the same KV (what prefill computed, stored in that dtype).
        using var referencePool = Pool(decodeSpec, "ref");
        var reference = new LlamaEngine(stories.Model, referencePool);
        var request = new GenerationRequest(prompt, 100, SamplingOptions.Greedy);
        var expected = reference.Generate(request).Generated;
        if (KvLayoutSpec.Parse(prefillSpec).DType is KvDType.BFloat16)
        {
            // The same KV for a bf16 prefill is its bf16 values: the reference stores them that way too.
            using var viaBf16 = Pool("dtype=bf16", "refbf");
            expected = ReferenceThrough(viaBf16, decodeSpec, request);
        }

        using var prefillPool = Pool(prefillSpec, "pf");
        using var decodePool = Pool(decodeSpec, "dc");
        Assert.Equal(targetDType, decodePool.Layout.DType);
        using var split = new LayoutSplit(new PrefillEngine(new LlamaEngine(stories.Model, prefillPool)),
            new DecodeEngine(new LlamaEngine(stories.Model, decodePool), TimeSpan.FromMinutes(5)), KvLayoutSpec.Parse(prefillSpec), KvLayoutSpec.Parse(decodeSpec));
        var actual = split.Generate("dtype-" + Guid.NewGuid().ToString("N")[..6], request).Generated;
        Assert.Equal(100, actual.Count);
        Assert.Equal(expected, actual);

        // Logits of the first decode step: the KV handed over and converted vs the same KV decoded where it was computed.
        var converted = LogitsAfterHandoff(prefillSpec, decodeSpec, prompt);
        var unconverted = LogitsAfterHandoff(prefillSpec, prefillSpec, prompt);
        var diff = converted.Zip(unconverted, (a, b) => MathF.Abs(a - b)).Max();
        output.WriteLine($"{prefillSpec} -> {decodeSpec}: max |logit difference| {diff} (tolerance {tolerance}; max |logit| {unconverted.Max(MathF.Abs)})");
        Assert.True(diff <= tolerance, $"max |logit difference| {diff} > {tolerance}");
        Assert.True(diff > 0 || KvLayoutSpec.Parse(decodeSpec).DType == KvLayoutSpec.Parse(prefillSpec).DType, "a dtype change that changed nothing: was it applied?");
    }

    /// <summary>Prefill into a pool of <paramref name="via"/>'s dtype, translate to <paramref name="decodeSpec"/>, decode there.</summary>
    private List<int> ReferenceThrough(KvPool via, string decodeSpec, GenerationRequest request)
    {
        using var decodePool = Pool(decodeSpec, "refdc");
        using var split = new LayoutSplit(new PrefillEngine(new LlamaEngine(stories.Model, via)),
            new DecodeEngine(new LlamaEngine(stories.Model, decodePool), TimeSpan.FromMinutes(5)), new KvLayoutSpec(), new KvLayoutSpec());
        return [.. split.Generate("ref-" + Guid.NewGuid().ToString("N")[..6], request).Generated];
    }

    private float[] LogitsAfterHandoff(string prefillSpec, string decodeSpec, int[] prompt)
    {
        using var prefillPool = Pool(prefillSpec, "lpf");
        using var decodePool = Pool(decodeSpec, "ldc");
        var source = new BlockTable(prefillPool.Layout.TokensPerBlock);
        source.EnsureCapacity(prompt.Length, prefillPool.Allocator);
        int first;
        using (var logits = stories.Model.Model.Forward([new ForwardItem(prompt, 0, source)], prefillPool))
        {
            first = (int)logits[0].argmax().item<long>();
        }
        var target = new BlockTable(decodePool.Layout.TokensPerBlock);
        target.EnsureCapacity(prompt.Length + 1, decodePool.Allocator);
        var plan = KvTranslationPlanner.Plan(prefillPool.Layout, source.Blocks, decodePool.Layout, target.Blocks, prompt.Length);
        LocalTranslation.Run(plan, prefillPool.Region, decodePool.Region);
        using var next = stories.Model.Model.Forward([new ForwardItem([first], prompt.Length, target)], decodePool);
        return next[0].data<float>().ToArray();
    }

    private KvPool Pool(string spec, string name)
    {
        var parsed = KvLayoutSpec.Parse(spec) with { TpDegree = 1 };
        return KvPool.Create(parsed.Apply(stories.Model.Config.KvLayout(tokensPerBlock: 16, blocks: 64)), $"test-{name}-{Guid.NewGuid():N}"[..24]);
    }
}
