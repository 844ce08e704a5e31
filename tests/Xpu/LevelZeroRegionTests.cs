using Microsoft.Win32.SafeHandles;
using PdRdma.Transport;
using PdRdma.Transport.LevelZero;

namespace PdRdma.Tests.Xpu;

/// <summary>The Level Zero region API against the test driver, through the real loader: every call goes loader → driver DDI.</summary>
[Collection(LevelZeroCollection.Name)]
public sealed class LevelZeroRegionTests(LevelZeroFixture fixture)
{
    private LevelZeroDevice Device => fixture.Device!;

    [LevelZeroFact]
    public void OpenReportsTheDriverDeviceAndUuid()
    {
        Assert.Contains("test driver", Device.Name, StringComparison.Ordinal);
        Assert.Equal(16, Device.Uuid.Count);
        Assert.Equal(0xA0, Device.Uuid[0]);
    }

    [LevelZeroFact]
    public void AllocatedRegionIsZeroedAndRoundTripsAtAnOffset()
    {
        using var region = LevelZeroDeviceRegion.Allocate(Device, "roundtrip", 1 << 16);
        Assert.Equal(MemoryKind.LevelZeroDevice, region.Kind);
        Assert.Equal(XpuRegionOrigin.Allocated, region.Origin);
        var all = new byte[region.Length];
        region.Read(0, all);
        Assert.All(all, b => Assert.Equal(0, b));

        var data = Pattern(1000, 1);
        region.Write(12345, data);
        var back = new byte[1000];
        region.Read(12345, back);
        Assert.Equal(data, back);
    }

    [LevelZeroFact]
    public void OutOfBoundsAccessIsATypedErrorAndTouchesNothing()
    {
        using var region = LevelZeroDeviceRegion.Allocate(Device, "bounds", 4096);
        var e = Assert.Throws<TransferException>(() => region.Write(4000, new byte[200]));
        Assert.Equal(TransferErrorCode.OutOfBounds, e.Code);
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => region.Read(-1, new byte[1])).Code);
        using var other = LevelZeroDeviceRegion.Allocate(Device, "bounds-2", 1024);
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => other.CopyFrom(region, 0, 0, 2048)).Code);
        var all = new byte[4096];
        region.Read(0, all);
        Assert.All(all, b => Assert.Equal(0, b));
    }

    [LevelZeroFact]
    public void DeviceToDeviceAndHostRegionCopiesMoveTheBytes()
    {
        using var a = LevelZeroDeviceRegion.Allocate(Device, "d2d-a", 8192);
        using var b = LevelZeroDeviceRegion.Allocate(Device, "d2d-b", 8192);
        using var host = HostRegion.Create("xpu-host-" + Guid.NewGuid().ToString("N"), 8192);
        var data = Pattern(8192, 2);
        a.Write(0, data);
        b.CopyFrom(a, 1024, 0, 4096);
        var back = new byte[4096];
        b.Read(0, back);
        Assert.Equal(data.AsSpan(1024, 4096).ToArray(), back);

        a.CopyToHost(0, host, 0, 8192);
        Assert.Equal(data, host.AsSpan(0, 8192).ToArray());
        host.AsSpan(0, 100).Fill(0xEE);
        b.CopyFromHost(host, 0, 100, 100);
        b.Read(100, back.AsSpan(0, 100));
        Assert.All(back.AsSpan(0, 100).ToArray(), x => Assert.Equal(0xEE, x));
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => a.CopyToHost(0, host, 4096, 8192)).Code);
    }

    [LevelZeroFact]
    public void DmaBufExportImportedAgainSeesTheSameMemory()
    {
        using var region = LevelZeroDeviceRegion.Allocate(Device, "dmabuf", 8192);
        using var fd = region.ExportDmaBuf();
        Assert.False(fd.IsInvalid);
        using var imported = LevelZeroDeviceRegion.ImportDmaBuf(Device, "dmabuf-import", fd, 8192);
        Assert.Equal(XpuRegionOrigin.DmaBufImport, imported.Origin);
        var data = Pattern(8192, 3);
        imported.Write(0, data);
        var back = new byte[8192];
        region.Read(0, back);
        Assert.Equal(data, back);
    }

    [LevelZeroFact]
    public void IpcDescriptorOpensTheSameAllocation()
    {
        using var region = LevelZeroDeviceRegion.Allocate(Device, "ipc", 8192);
        var data = Pattern(8192, 4);
        region.Write(0, data);
        using var fd = region.ExportIpc();
        using var mapped = LevelZeroDeviceRegion.OpenIpc(Device, "ipc-mapped", fd, 8192);
        Assert.Equal(XpuRegionOrigin.IpcMapping, mapped.Origin);
        var back = new byte[8192];
        mapped.Read(0, back);
        Assert.Equal(data, back);
    }

    [LevelZeroFact]
    public void AnnouncedLengthBeyondTheDescriptorIsRefused()
    {
        using var region = LevelZeroDeviceRegion.Allocate(Device, "short", 4096);
        using var ipc = region.ExportIpc();
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => LevelZeroDeviceRegion.OpenIpc(Device, "long", ipc, 1 << 20)).Code);
        using var dmabuf = region.ExportDmaBuf();
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => LevelZeroDeviceRegion.ImportDmaBuf(Device, "long", dmabuf, 1 << 20)).Code);
    }

    [LevelZeroFact]
    public void ADescriptorThatIsNotMemoryIsRefused()
    {
        using var pipe = new System.IO.Pipes.AnonymousPipeServerStream();
        using var notMemory = new SafeFileHandle(pipe.SafePipeHandle.DangerousGetHandle(), ownsHandle: false);
        var e = Assert.Throws<TransferException>(() => LevelZeroDeviceRegion.OpenIpc(Device, "pipe", notMemory, 4096));
        Assert.NotEqual(TransferErrorCode.PoolFull, e.Code);
    }

    [LevelZeroFact]
    public void DisabledFeaturesFailAsUnsupported()
    {
        using var region = LevelZeroDeviceRegion.Allocate(Device, "disabled", 4096);
        try
        {
            TestDriver.SetDisabled(TestDriver.DisableIpc | TestDriver.DisableExternal);
            Assert.Equal(TransferErrorCode.Unsupported, Assert.Throws<TransferException>(() => region.ExportIpc()).Code);
            Assert.Equal(TransferErrorCode.Unsupported, Assert.Throws<TransferException>(() => region.ExportDmaBuf()).Code);
            using var plain = LevelZeroDeviceRegion.Allocate(Device, "plain", 4096);
            plain.Write(0, [1, 2, 3]);
        }
        finally
        {
            TestDriver.SetDisabled(0);
        }
    }

    [LevelZeroFact]
    public void EveryAllocationAndMappingIsFreedWhateverTheDisposeOrder()
    {
        var before = TestDriver.LiveAllocations();
        var device = LevelZeroDevice.Open(0);
        var region = LevelZeroDeviceRegion.Allocate(device, "order", 4096);
        var fd = region.ExportIpc();
        var mapped = LevelZeroDeviceRegion.OpenIpc(device, "order-mapped", fd, 4096);
        Assert.Equal(before + 2, TestDriver.LiveAllocations());
        device.Dispose();   // the context stays alive: the regions hold it
        fd.Dispose();
        region.Dispose();
        mapped.Dispose();
        Assert.Equal(before, TestDriver.LiveAllocations());
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
