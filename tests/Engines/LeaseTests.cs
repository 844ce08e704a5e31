using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

public sealed class LeaseTests
{
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void ExpiredLeasesAreRefusedAndTheirBlocksReturned()
    {
        using var model = ModelSource.Load("tiny-random");
        using var pool = KvPool.Create(model.Config.KvLayout(8, 10), "test-lease-" + Guid.NewGuid().ToString("N")[..8]);
        var time = new ManualTime();
        var decode = new DecodeEngine(new LlamaEngine(model, pool), TimeSpan.FromSeconds(5), time);

        var lease = decode.Reserve("r1", promptLength: 17);
        Assert.Equal(3, lease.BlockIds.Count);
        Assert.Equal(7, pool.Allocator.FreeCount);
        Assert.Throws<InvalidOperationException>(() => decode.Reserve("r1", 1));

        time.Now += TimeSpan.FromSeconds(6);
        var prefill = new PrefillResult(Enumerable.Repeat(5, 17).ToArray(), 7, 1, []);
        var e = Assert.Throws<TransferException>(() => decode.Resume(lease, prefill, 4, SamplingOptions.Greedy));
        Assert.Equal(TransferErrorCode.Timeout, e.Code);
        Assert.Equal(1, decode.ReclaimExpired());
        Assert.Equal(10, pool.Allocator.FreeCount);
        Assert.Equal(TransferErrorCode.Timeout, Assert.Throws<TransferException>(() => decode.Resume(lease, prefill, 4, SamplingOptions.Greedy)).Code);
    }

    [Fact]
    public void ReserveBeyondThePoolIsPoolFullAndReleaseReturnsBlocks()
    {
        using var model = ModelSource.Load("tiny-random");
        using var pool = KvPool.Create(model.Config.KvLayout(8, 4), "test-lease-" + Guid.NewGuid().ToString("N")[..8]);
        var decode = new DecodeEngine(new LlamaEngine(model, pool), TimeSpan.FromMinutes(1));
        var lease = decode.Reserve("a", 24);
        Assert.Equal(TransferErrorCode.PoolFull, Assert.Throws<TransferException>(() => decode.Reserve("b", 9)).Code);
        Assert.True(decode.Release(lease));
        Assert.False(decode.Release(lease));
        Assert.Equal(4, pool.Allocator.FreeCount);
        Assert.Equal(0, decode.ActiveLeases);
    }

    [Fact]
    public void HandoffCoalescesNeighbouringBlocks()
    {
        var layout = new KvLayout(2, 1, 4, 2, KvDType.Float32, 8);
        var copies = KvHandoff.LayerCopies(layout, [0, 1, 2, 5], new KvLayout(2, 1, 4, 2, KvDType.Float32, 10), [3, 4, 5, 9], layer: 1);
        // K: blocks 0,1,2 → 3,4,5 coalesce; 5 → 9 alone; then V likewise.
        Assert.Equal(4, copies.Count);
        Assert.Equal(layout.BlockBytes * 3, copies[0].Length);
        Assert.Equal(layout.Extent(1, KvPart.Key, 0).Offset, copies[0].SourceOffset);
        Assert.Equal((new KvLayout(2, 1, 4, 2, KvDType.Float32, 10)).Extent(1, KvPart.Value, 9).Offset, copies[3].TargetOffset);
        Assert.Equal(TransferErrorCode.LayoutMismatch, Assert.Throws<TransferException>(() =>
            KvHandoff.LayerCopies(layout, [0], new KvLayout(2, 1, 4, 4, KvDType.Float32, 8), [0], 0)).Code);
    }
}
