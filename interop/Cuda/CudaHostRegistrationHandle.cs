using System.Runtime.InteropServices;

namespace PdRdma.Interop.Cuda;

/// <summary>Host pages pinned with cuMemHostRegister (so copies DMA straight from them); unpinned on release.</summary>
public sealed class CudaHostRegistrationHandle : SafeHandle
{
    public CudaHostRegistrationHandle(nint hostPointer)
        : base(0, ownsHandle: true)
    {
        SetHandle(hostPointer);
    }

    public override bool IsInvalid => handle == 0;

    protected override unsafe bool ReleaseHandle() => CudaDriver.MemHostUnregister((void*)handle) == CudaResult.Success;
}
