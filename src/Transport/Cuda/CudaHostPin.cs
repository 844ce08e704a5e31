using PdRdma.Interop.Cuda;

namespace PdRdma.Transport.Cuda;

/// <summary>
/// Page-locks a host region for the CUDA driver (cuMemHostRegister, portable), so copies between it and a device run
/// as DMA. The pin is a SafeHandle: disposing it unregisters the pages; the region must outlive it.
/// </summary>
public static class CudaHostPin
{
    /// <summary>Pins <paramref name="region"/>; false with the driver's status in <paramref name="error"/> when the driver refuses.</summary>
    public static unsafe bool TryPin(HostRegion region, out IDisposable? pin, out string? error)
    {
        var status = CudaDriver.MemHostRegister((void*)region.Address, (nuint)region.Length, CudaDriver.MemHostRegisterPortable);
        pin = status == CudaResult.Success ? new CudaHostRegistrationHandle(region.Address) : null;
        error = pin is null ? status.ToString() : null;
        return pin is not null;
    }
}
