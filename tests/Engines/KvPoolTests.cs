using PdRdma.Engines.Kv;
using PdRdma.Transport;
using static TorchSharp.torch;

namespace PdRdma.Tests.Engines;

public sealed class KvPoolTests
{
    private static readonly KvLayout Layout = new(layers: 3, kvHeads: 2, headDim: 4, tokensPerBlock: 5, KvDType.Float32, blocks: 6);

    [Fact]
    public void TensorAndRegionShareThePagesBothWays()
    {
        using var pool = KvPool.Create(Layout, "test-shared-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(Layout.TotalBytes, pool.Region.Length);
        Assert.Equal(new long[] { 3, 2, 6, 5, 2, 4 }, pool.Tensor.shape);

        // Tensor → region, at the extent KvLayout gives for (layer 2, V, block 4), token 3, head 1, dim 2.
        pool.Tensor[2, 1, 4, 3, 1, 2] = tensor(42.5f);
        var extent = Layout.Extent(2, KvPart.Value, 4);
        long offset = extent.Offset + ((3 * 2 + 1) * 4 + 2) * 4;
        Assert.Equal(42.5f, BitConverter.ToSingle(pool.Region.AsSpan(offset, 4)));

        // Region → tensor.
        BitConverter.TryWriteBytes(pool.Region.AsSpan(Layout.Extent(0, KvPart.Key, 1).Offset, 4), -7.25f);
        Assert.Equal(-7.25f, pool.Tensor[0, 0, 1, 0, 0, 0].item<float>());

        // And through a second, independent mapping of the same file (what a same-host peer does).
        using var peer = HostRegion.Open("peer-view", pool.Region.SharedPath!, pool.Region.Length);
        Assert.Equal(42.5f, BitConverter.ToSingle(peer.AsSpan(offset, 4)));
    }

    [Fact]
    public void FullPoolRaisesPoolFullAndTakesNothing()
    {
        using var pool = KvPool.Create(Layout, "test-full-" + Guid.NewGuid().ToString("N")[..8]);
        var held = pool.Allocator.Allocate(4);
        var e = Assert.Throws<TransferException>(() => pool.Allocator.Allocate(3));
        Assert.Equal(TransferErrorCode.PoolFull, e.Code);
        Assert.Equal(2, pool.Allocator.FreeCount);
        var table = new BlockTable(Layout.TokensPerBlock);
        Assert.Equal(TransferErrorCode.PoolFull, Assert.Throws<TransferException>(() => table.EnsureCapacity(11, pool.Allocator)).Code);
        pool.Allocator.Free(held);
        Assert.Throws<InvalidOperationException>(() => pool.Allocator.Free([held[0]]));
        Assert.Equal(Layout.Blocks, pool.Allocator.FreeCount);
    }

    [Fact]
    public void BlockTableMapsPositionsThroughItsBlocks()
    {
        var table = new BlockTable(5, [4, 1, 3]);
        Assert.Equal(15, table.Capacity);
        Assert.Equal(4 * 5 + 0, table.SlotOf(0));
        Assert.Equal(1 * 5 + 2, table.SlotOf(7));
        Assert.Equal(3 * 5 + 4, table.SlotOf(14));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.SlotOf(15));
        Assert.Equal(3, BlockTable.BlocksFor(11, 5));
        Assert.Equal(2, BlockTable.BlocksFor(10, 5));
    }
}
