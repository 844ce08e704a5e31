using PdRdma.Transport;
using PdRdma.Transport.Cuda;

namespace PdRdma.Tests.Gpu;

public sealed class CudaRegionTests
{
    [Fact]
    public void WithoutADriverOpeningTheDeviceSaysWhatIsMissing()
    {
        if (CudaDevice.DriverPresent) return; // the GPU test below covers hosts with a driver
        var error = Assert.Throws<TransferException>(() => CudaDevice.Open(0));
        Assert.Equal(TransferErrorCode.DeviceUnavailable, error.Code);
        Assert.Contains("libcuda.so.1", error.Message);
        Assert.Contains("install the NVIDIA driver", error.Message);
    }

    [GpuFact]
    [Trait("Category", "Gpu")]
    public void Gpu_DeviceRegionRoundTripsAndRejectsOutOfBounds()
    {
        using var device = CudaDevice.Open(0);
        using var region = CudaDeviceRegion.Allocate(device, "kv", 1 << 20);
        var data = new byte[4096];
        new Random(7).NextBytes(data);
        region.Write(8192, data);
        var back = new byte[4096];
        region.Read(8192, back);
        Assert.Equal(data, back);
        var error = Assert.Throws<TransferException>(() => region.Write((1 << 20) - 10, data));
        Assert.Equal(TransferErrorCode.OutOfBounds, error.Code);
        Assert.Equal(64, region.ExportIpcHandle().Length);
    }
}
