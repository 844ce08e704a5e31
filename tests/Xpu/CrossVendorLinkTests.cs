using PdRdma.Transport;
using PdRdma.Transport.LevelZero;

namespace PdRdma.Tests.Xpu;

/// <summary>
/// The step-2 path choice on the test driver: a region whose dma-buf Level Zero imports is linked peer to peer; one
/// that cannot export goes through host staging (in chunks larger regions need). Bytes verified both ways.
/// With CUDA the source is a CudaDeviceRegion: that pairing runs only on a host with both (scripts/xpu-check.sh).
/// </summary>
[Collection(LevelZeroCollection.Name)]
public sealed class CrossVendorLinkTests(LevelZeroFixture fixture)
{
    private LevelZeroDevice Device => fixture.Device!;

    [LevelZeroFact]
    public void ADmaBufExportingSourceIsImportedAndCopiesGoBothWays()
    {
        using var source = LevelZeroDeviceRegion.Allocate(Device, "other-vendor", 1 << 16);
        using var target = LevelZeroDeviceRegion.Allocate(Device, "xpu-pool", 1 << 16);
        using var link = CrossVendorLink.Attach(source, Device);
        Assert.Equal(CrossVendorPath.DmaBufImport, link.Path);
        Roundtrip(link, source, target, 1 << 16);
    }

    [LevelZeroFact]
    public void ASourceWithoutDmaBufGoesThroughHostStagingInChunks()
    {
        const long length = (9 << 20) + 123;
        using var source = new HostMemoryWithoutDmaBuf("no-dmabuf", length);
        using var target = LevelZeroDeviceRegion.Allocate(Device, "xpu-pool-big", length);
        using var link = CrossVendorLink.Attach(source, Device);
        Assert.Equal(CrossVendorPath.HostStaged, link.Path);
        Assert.Contains("Unsupported", link.Reason, StringComparison.Ordinal);
        Roundtrip(link, source, target, length);
    }

    [LevelZeroFact]
    public void TheCallerCanForceHostStaging()
    {
        using var source = LevelZeroDeviceRegion.Allocate(Device, "other-vendor-2", 4096);
        using var target = LevelZeroDeviceRegion.Allocate(Device, "xpu-pool-2", 4096);
        using var link = CrossVendorLink.Attach(source, Device, allowDmaBuf: false);
        Assert.Equal(CrossVendorPath.HostStaged, link.Path);
        Roundtrip(link, source, target, 4096);
    }

    private static void Roundtrip(CrossVendorLink link, IDeviceMemory source, LevelZeroDeviceRegion target, long length)
    {
        var data = new byte[length];
        new Random(9).NextBytes(data);
        source.Write(0, data);
        link.CopyToXpu(0, target, 0, length);
        var back = new byte[length];
        target.Read(0, back);
        Assert.Equal(data, back);

        Array.Reverse(data);
        target.Write(0, data);
        link.CopyFromXpu(target, 0, 0, length);
        source.Read(0, back);
        Assert.Equal(data, back);
    }
}
