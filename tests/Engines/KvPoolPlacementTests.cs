using PdRdma.Engines;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Split;
using PdRdma.Transport;
using static TorchSharp.torch;

namespace PdRdma.Tests.Engines;

/// <summary>Where a KV pool's bytes live (device = cpu here; the CUDA placement runs in scripts/gpu-engine-check.sh).</summary>
public sealed class KvPoolPlacementTests
{
    private static readonly KvLayout Layout = new(layers: 2, kvHeads: 2, headDim: 4, tokensPerBlock: 4, KvDType.Float32, blocks: 5);

    private static string Name(string what) => $"test-{what}-{Guid.NewGuid():N}"[..24];

    [Fact]
    public void ACpuPoolIsItsHostRegionAndTheTensorSitsOnItsBytes()
    {
        using var pool = KvPool.Create(Layout, Name("place"), EngineDevice.Cpu);
        Assert.Equal(EngineDevice.Cpu, pool.Device);
        Assert.Null(pool.DeviceRegion);
        Assert.Same(pool.Region, pool.MemoryRegion);
        Assert.Equal(MemoryKind.Host, pool.MemoryRegion.Kind);
        Assert.Equal(TorchSharp.DeviceType.CPU, pool.Tensor.device_type);
        // The tensor maps the region's file (MAP_SHARED): a write through one is seen through the other, no copy.
        pool.Tensor[1, 1, 4, 3, 1, 3] = tensor(9.75f);
        Assert.Equal(9.75f, BitConverter.ToSingle(pool.Region.AsSpan(Layout.TotalBytes - 4, 4)));
    }

    [Fact]
    public void ThePoolWithoutADeviceIsTheCpuPool()
    {
        using var a = KvPool.Create(Layout, Name("default"));
        Assert.Equal(EngineDevice.Cpu, a.Device);
    }

    [Fact]
    public void ACudaPoolInThisBuildIsRefusedAndLeavesNoRegionBehind()
    {
        var dir = TestModels.NewTempDir();
        var e = Assert.Throws<TransferException>(() => KvPool.Create(Layout, Name("cuda"), EngineDevice.Cuda(0), dir));
        Assert.Equal(TransferErrorCode.DeviceUnavailable, e.Code);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void CopyExtentsMovesALayersBlocksBetweenPools()
    {
        using var source = KvPool.Create(Layout, Name("src"), EngineDevice.Cpu);
        using var target = KvPool.Create(Layout, Name("dst"), EngineDevice.Cpu);
        source.Tensor[1, 0, 2] = full([4, 2, 4], 3.5f);
        source.Tensor[1, 1, 2] = full([4, 2, 4], -1.25f);
        var copies = KvHandoff.LayerCopies(Layout, [2], Layout, [4], 1);
        target.CopyExtentsFrom(source, copies.Select(c => (c.SourceOffset, c.TargetOffset, c.Length)));
        Assert.True(target.Tensor[1, 0, 4].eq(3.5f).all().item<bool>());
        Assert.True(target.Tensor[1, 1, 4].eq(-1.25f).all().item<bool>());
        Assert.Equal(0f, target.Tensor[0].abs().sum().item<float>());
        Assert.Equal(0f, target.Tensor[1, 0, 2].abs().sum().item<float>());
    }

    [Fact]
    public void ACopyPastTheRegionIsRefusedAndWritesNothing()
    {
        using var source = KvPool.Create(Layout, Name("src"), EngineDevice.Cpu);
        using var target = KvPool.Create(Layout, Name("dst"), EngineDevice.Cpu);
        source.Tensor.fill_(1f);
        var e = Assert.Throws<TransferException>(() => target.CopyExtentsFrom(source, [(0, 0, 8), (0, Layout.TotalBytes - 4, 8)]));
        Assert.Equal(TransferErrorCode.OutOfBounds, e.Code);
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => target.CopyExtentsFrom(source, [(-8, 0, 8)])).Code);
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => target.CopyExtentsFrom(source, [(0, 0, long.MaxValue)])).Code);
        Assert.Equal(0f, target.Tensor.abs().sum().item<float>());
    }
}
