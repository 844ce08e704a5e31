using System.Runtime.InteropServices;

namespace PdRdma.Interop.Cuda;

/// <summary>Owns a mapping opened with cuIpcOpenMemHandle; closes it on release.</summary>
public sealed class CudaIpcMappingHandle : SafeHandle
{
    public CudaIpcMappingHandle(ulong devicePointer)
        : base(0, ownsHandle: true)
    {
        SetHandle((nint)devicePointer);
    }

    public override bool IsInvalid => handle == 0;

    public ulong DevicePointer => (ulong)handle;

    protected override bool ReleaseHandle() => CudaDriver.IpcCloseMemHandle((ulong)handle) == CudaResult.Success;
}
