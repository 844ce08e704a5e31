namespace PdRdma.Interop.LevelZero.Handles;

/// <summary>An immediate command list; holds its context.</summary>
public sealed class ZeCommandListHandle : ZeHandle
{
    protected override Native.ze_result_t Destroy(nint native) => Ze.zeCommandListDestroy(native);
}
