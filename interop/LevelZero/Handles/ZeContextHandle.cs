namespace PdRdma.Interop.LevelZero.Handles;

/// <summary>A Level Zero context (ze_context_handle_t); destroyed after every allocation made in it.</summary>
public sealed class ZeContextHandle : ZeHandle
{
    protected override Native.ze_result_t Destroy(nint native) => Ze.zeContextDestroy(native);
}
