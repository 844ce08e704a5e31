using PdRdma.Transport;

namespace PdRdma.Tests.Transport;

/// <summary>Host memory exported as a dma-buf (udmabuf or vgem): the stand-in for GPU memory in the verbs tests.</summary>
public sealed class DmaBufHostRegionTests
{
    private static bool HasSource => File.Exists("/dev/udmabuf") || Directory.Exists("/sys/class/drm") &&
        Directory.EnumerateFileSystemEntries("/sys/class/drm", "card*").Any(e => new DirectoryInfo(Path.Combine(e, "device")).ResolveLinkTarget(true)?.Name == "vgem");

    [Fact]
    public void WithoutUdmabufOrVgem_CreationIsRefusedNamingBothFixes_ElseTheBytesRoundTripAndTheDmaBufExports()
    {
        if (!HasSource)
        {
            var ex = Assert.Throws<TransferException>(() => DmaBufHostRegion.Create("kv", 1 << 20));
            Assert.Equal(TransferErrorCode.DeviceUnavailable, ex.Code);
            Assert.Contains("CONFIG_UDMABUF", ex.Detail);
            Assert.Contains("modprobe vgem", ex.Detail);
            return;
        }
        using var region = DmaBufHostRegion.Create("kv", 1 << 20);
        Assert.Equal(MemoryKind.Host, region.Kind);
        region.Write(4096, [1, 2, 3]);
        var back = new byte[3];
        region.Read(4096, back);
        Assert.Equal([1, 2, 3], back);
        using var fd = region.ExportDmaBuf();
        Assert.False(fd.IsInvalid);
        Assert.Throws<TransferException>(() => region.Write(region.Length - 1, [1, 2]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ANonPositiveLengthIsRefusedBeforeAnythingIsAllocated(long length) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DmaBufHostRegion.Create("kv", length));
}
