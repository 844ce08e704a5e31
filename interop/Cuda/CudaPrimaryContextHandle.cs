using System.Runtime.InteropServices;

namespace PdRdma.Interop.Cuda;

/// <summary>A retained primary context of one device; released (not destroyed) on release.</summary>
public sealed class CudaPrimaryContextHandle : SafeHandle
{
    public CudaPrimaryContextHandle(nint context, int device)
        : base(0, ownsHandle: true)
    {
        SetHandle(context);
        Device = device;
    }

    public int Device { get; }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => CudaDriver.DevicePrimaryCtxRelease(Device) == CudaResult.Success;
}
