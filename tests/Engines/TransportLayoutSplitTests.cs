using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

/// <summary>
/// The heterogeneous-layout split through two real transfer agents (tcp and shm over loopback): layouts exchanged at
/// connect, the initiator's translation plans written as batches per layer, dtype converted on the sending side.
/// Temperature 0: identical to colocated generation (for a dtype change: to colocated generation in the target dtype).
/// </summary>
[Collection(StoriesCollection.Name)]
[Trait("Category", "KvLayout")]
public sealed class TransportLayoutSplitTests(StoriesFixture stories)
{
    [Theory]
    [InlineData("block=16,tp=2", "block=64,order=head-major,tp=1", BackendChoice.Tcp)]
    [InlineData("block=64", "block=16,tp=2,outer=block-major", BackendChoice.Shm)]
    [InlineData("dtype=f32", "dtype=bf16,block=32", BackendChoice.Tcp)]
    public async Task OutputIsIdenticalToColocated(string prefillSpec, string decodeSpec, BackendChoice backend)
    {
        var request = new GenerationRequest(stories.Model.Tokenizer.Encode("Once upon a time, there was a dog"), 30, SamplingOptions.Greedy);
        var decodeDType = KvLayoutSpec.Parse(decodeSpec).DType;
        using var referencePool = Pool(decodeDType is { } d ? $"dtype={(d == KvDType.BFloat16 ? "bf16" : "f32")}" : "", "ref");
        var expected = new LlamaEngine(stories.Model, referencePool).Generate(request).Generated;

        using var prefillPool = Pool(prefillSpec, "tpf");
        using var decodePool = Pool(decodeSpec, "tdc");
        await using var split = await TransportLayoutSplit.StartAsync(new PrefillEngine(new LlamaEngine(stories.Model, prefillPool)),
            new DecodeEngine(new LlamaEngine(stories.Model, decodePool), TimeSpan.FromMinutes(5)), KvLayoutSpec.Parse(prefillSpec), KvLayoutSpec.Parse(decodeSpec), backend);
        var actual = await split.GenerateAsync("t-" + Guid.NewGuid().ToString("N")[..6], request);
        Assert.Equal(expected, actual.Generated);
        Assert.True(split.LastTransferBytes > 0 && split.LastWriteOps > 0);

        // A second request through the same agents (leases, staging and rank pools reused).
        var again = await split.GenerateAsync("t-" + Guid.NewGuid().ToString("N")[..6], request);
        Assert.Equal(expected, again.Generated);
    }

    [Fact]
    public async Task PoolsOfAnotherModelAreRefusedAtConnect()
    {
        using var prefillPool = Pool("", "mpf");
        using var otherModel = KvPool.Create(new KvLayout(layers: 2, kvHeads: 4, headDim: 8, tokensPerBlock: 16, KvDType.Float32, blocks: 8), $"test-other-{Guid.NewGuid():N}"[..24]);
        var e = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var split = await TransportLayoutSplit.StartAsync(new PrefillEngine(new LlamaEngine(stories.Model, prefillPool)),
                new DecodeEngine(new LlamaEngine(stories.Model, otherModel), TimeSpan.FromMinutes(5)), new KvLayoutSpec(), new KvLayoutSpec(), BackendChoice.Tcp);
        });
        Assert.True(e is TransferException { Code: TransferErrorCode.LayoutMismatch } || e.Message.Contains("LayoutMismatch", StringComparison.Ordinal), e.ToString());
    }

    private KvPool Pool(string spec, string name) =>
        KvPool.Create((KvLayoutSpec.Parse(spec) with { TpDegree = 1 }).Apply(stories.Model.Config.KvLayout(tokensPerBlock: 16, blocks: 64)), $"test-{name}-{Guid.NewGuid():N}"[..24]);
}
