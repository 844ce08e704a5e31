using PdRdma.Interop.Verbs;
using PdRdma.Transport;
using PdRdma.Transport.Backends.Verbs;

namespace PdRdma.Tests.Verbs;

/// <summary>On a host without an RDMA device the backend must say so, and how to fix it.</summary>
[Trait("Category", "Verbs")]
public sealed class HostWithoutRdmaTests
{
    [NoRdmaDeviceFact]
    public void Host_WithoutRdmaDevice_OpenReportsDeviceUnavailableWithTheFix()
    {
        var ex = Assert.Throws<TransferException>(() => VerbsDevice.Open());
        Assert.Equal(TransferErrorCode.DeviceUnavailable, ex.Code);
        if (!LibibverbsInstalled())
        {
            Assert.Contains("apt-get install libibverbs1", ex.Message);
            return;
        }
        Assert.Contains("no RDMA device", ex.Message);
        Assert.Contains("rdma link add rxe0 type rxe netdev", ex.Message);
    }

    [Fact]
    public void Host_NamedDeviceThatIsAbsent_ReportsDeviceUnavailableNamingIt()
    {
        var ex = Assert.Throws<TransferException>(() => VerbsDevice.Open(new VerbsOptions { DeviceName = "pdv-missing0" }));
        Assert.Equal(TransferErrorCode.DeviceUnavailable, ex.Code);
        Assert.True(ex.Message.Contains("pdv-missing0") || ex.Message.Contains("no RDMA device"), ex.Message);
    }

    private static bool LibibverbsInstalled()
    {
        try { Ibv.GetDeviceNames(); return true; }
        catch (DllNotFoundException) { return false; }
    }
}
