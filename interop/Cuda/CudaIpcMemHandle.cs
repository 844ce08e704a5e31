using System.Runtime.CompilerServices;

namespace PdRdma.Interop.Cuda;

/// <summary>CUipcMemHandle: 64 opaque bytes that another process on the same host opens.</summary>
[InlineArray(64)]
public struct CudaIpcMemHandle
{
    private byte _element0;
}
