using System.Runtime.InteropServices;

namespace PdRdma.Interop.Cuda;

/// <summary>Owns a cuMemAlloc allocation; frees it on release. The handle value is the CUdeviceptr.</summary>
public sealed class CudaDeviceMemoryHandle : SafeHandle
{
    public CudaDeviceMemoryHandle(ulong devicePointer, bool ownsHandle = true)
        : base(0, ownsHandle)
    {
        SetHandle((nint)devicePointer);
    }

    public override bool IsInvalid => handle == 0;

    public ulong DevicePointer => (ulong)handle;

    protected override bool ReleaseHandle() => CudaDriver.MemFree((ulong)handle) == CudaResult.Success;
}
