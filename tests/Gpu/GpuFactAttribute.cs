using PdRdma.Transport.Cuda;

namespace PdRdma.Tests.Gpu;

/// <summary>A fact that needs an NVIDIA GPU; skipped with the reason on hosts without the driver.</summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public GpuFactAttribute()
    {
        if (!CudaDevice.DriverPresent) Skip = "needs an NVIDIA GPU: libcuda.so.1 is not installed on this host";
    }
}
