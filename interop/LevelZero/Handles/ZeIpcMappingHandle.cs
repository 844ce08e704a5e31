namespace PdRdma.Interop.LevelZero.Handles;

/// <summary>Another process's allocation mapped with zeMemOpenIpcHandle; holds its context, closed on release.</summary>
public sealed class ZeIpcMappingHandle : ZeHandle
{
    protected override Native.ze_result_t Destroy(nint native) => Ze.zeMemCloseIpcHandle(ParentHandle, native);
}
