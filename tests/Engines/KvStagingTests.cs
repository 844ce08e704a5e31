using PdRdma.Engines.Kv;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

/// <summary>
/// The host-staged KV hand-over of a device pool (serve --role prefill|decode --device cuda), on the CPU: the
/// "device" is memory the CPU reaches only through IDeviceMemory.Read/Write (its address shows other bytes).
/// </summary>
public sealed class KvStagingTests
{
    private static readonly KvLayout Layout = new(layers: 3, kvHeads: 2, headDim: 8, tokensPerBlock: 4, KvDType.BFloat16, blocks: 6);

    [Fact]
    public void AHostPoolNeedsNoStaging()
    {
        using var pool = HostRegion.Create("kv-host-" + Guid.NewGuid().ToString("N"), Layout.TotalBytes);
        Assert.Null(KvStaging.For(pool, Layout));
    }

    [Fact]
    public void PrefillStagesOutExactlyTheLayersBlocks_DecodeStagesInExactlyItsGrantedBlocksInEveryLayer()
    {
        using var device = new DeviceBehindTheCpu("kv", Layout.TotalBytes);
        var image = new byte[Layout.TotalBytes];
        new Random(3).NextBytes(image);
        device.Write(0, image);
        using var staging = KvStaging.For(device, Layout)!;
        Assert.True(File.Exists(staging.Mirror.SharedPath), "the daemon maps the mirror by its path");

        staging.StageOut([1], [4, 0]);

        var mirror = staging.Mirror.AsSpan(0, (int)Layout.TotalBytes).ToArray();
        var expected = new byte[Layout.TotalBytes];
        foreach (var block in new[] { 4, 0 })
        foreach (var part in new[] { KvPart.Key, KvPart.Value })
        {
            var e = Layout.Extent(1, part, block);
            image.AsSpan((int)e.Offset, (int)e.Length).CopyTo(expected.AsSpan((int)e.Offset));
        }
        Assert.Equal(expected, mirror);

        // decode: the daemon placed blocks 2 and 5 of every layer in the mirror; only those reach the device
        var arrived = new byte[Layout.TotalBytes];
        new Random(4).NextBytes(arrived);
        arrived.CopyTo(staging.Mirror.AsSpan(0, (int)Layout.TotalBytes));
        staging.StageIn([2, 5]);
        var after = new byte[Layout.TotalBytes];
        device.Read(0, after);
        var want = (byte[])image.Clone();
        for (int layer = 0; layer < Layout.Layers; layer++)
        foreach (var block in new[] { 2, 5 })
        foreach (var part in new[] { KvPart.Key, KvPart.Value })
        {
            var e = Layout.Extent(layer, part, block);
            arrived.AsSpan((int)e.Offset, (int)e.Length).CopyTo(want.AsSpan((int)e.Offset));
        }
        Assert.Equal(want, after);
    }

    [Theory]
    [InlineData(new[] { 0 }, new[] { 1, 6 })]
    [InlineData(new[] { 0 }, new[] { -1 })]
    [InlineData(new[] { 3 }, new[] { 0 })]
    [InlineData(new[] { int.MinValue }, new[] { 0 })]
    public void ABlockOrLayerOutsideThePoolIsRefusedBeforeAnyByteMoves(int[] layers, int[] blocks)
    {
        using var device = new DeviceBehindTheCpu("kv", Layout.TotalBytes);
        var image = new byte[Layout.TotalBytes];
        new Random(5).NextBytes(image);
        device.Write(0, image);
        using var staging = KvStaging.For(device, Layout)!;
        staging.Mirror.AsSpan(0, (int)Layout.TotalBytes).Fill(0x77);

        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => staging.StageOut(layers, blocks)).Code);
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => staging.StageIn(blocks.Append(99).ToArray())).Code);

        Assert.All(staging.Mirror.AsSpan(0, (int)Layout.TotalBytes).ToArray(), b => Assert.Equal(0x77, b));
        var after = new byte[Layout.TotalBytes];
        device.Read(0, after);
        Assert.Equal(image, after);
    }

    [Fact]
    public void ALayoutLargerThanThePoolIsRefused()
    {
        using var device = new DeviceBehindTheCpu("kv", Layout.TotalBytes - 1);
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => KvStaging.For(device, Layout)).Code);
    }
}
