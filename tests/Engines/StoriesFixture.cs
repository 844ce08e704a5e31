using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Split;

namespace PdRdma.Tests.Engines;

/// <summary>stories260K loaded once, with a colocated engine and an in-process split pair (separate pools).</summary>
public sealed class StoriesFixture : IDisposable
{
    public StoriesFixture()
    {
        Model = ModelSource.Load(TestModels.Stories260K);
        var layout = Model.Config.KvLayout(tokensPerBlock: 16, blocks: 80);
        ColocatedPool = KvPool.Create(layout, "test-colocated-" + Guid.NewGuid().ToString("N")[..8]);
        PrefillPool = KvPool.Create(layout, "test-prefill-" + Guid.NewGuid().ToString("N")[..8]);
        // A different pool size on the decode side: compatible layouts may differ in block count.
        DecodePool = KvPool.Create(Model.Config.KvLayout(tokensPerBlock: 16, blocks: 97), "test-decode-" + Guid.NewGuid().ToString("N")[..8]);
        Colocated = new LlamaEngine(Model, ColocatedPool);
        Prefill = new PrefillEngine(new LlamaEngine(Model, PrefillPool));
        Decode = new DecodeEngine(new LlamaEngine(Model, DecodePool), TimeSpan.FromMinutes(5));
        Split = new InProcessSplit(Prefill, Decode);
    }

    public LoadedModel Model { get; }
    public KvPool ColocatedPool { get; }
    public KvPool PrefillPool { get; }
    public KvPool DecodePool { get; }
    public LlamaEngine Colocated { get; }
    public PrefillEngine Prefill { get; }
    public DecodeEngine Decode { get; }
    public InProcessSplit Split { get; }

    public void Dispose()
    {
        ColocatedPool.Dispose();
        PrefillPool.Dispose();
        DecodePool.Dispose();
        Model.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class StoriesCollection : ICollectionFixture<StoriesFixture>
{
    public const string Name = "stories260K";
}
