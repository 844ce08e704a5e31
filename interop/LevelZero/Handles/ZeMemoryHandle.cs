namespace PdRdma.Interop.LevelZero.Handles;

/// <summary>A device or host allocation (zeMemAllocDevice/Host, or an imported dma-buf); holds its context. The handle value is the pointer.</summary>
public sealed class ZeMemoryHandle : ZeHandle
{
    protected override Native.ze_result_t Destroy(nint native) => Ze.zeMemFree(ParentHandle, native);
}
