namespace PdRdma.Interop.LevelZero.Handles;

/// <summary>
/// A Level Zero object (context, allocation, IPC mapping, command list). Each handle holds a reference on the
/// handles it was created from (an allocation on its context), so a context is destroyed only after its last
/// allocation is freed, whatever order callers dispose in. Thread-safe as any SafeHandle.
/// </summary>
public abstract class ZeHandle : PdRdma.Interop.Handles.ParentedHandle
{
    /// <inheritdoc/>
    protected sealed override bool ReleaseNative(nint native) => Destroy(native) == Native.ze_result_t.ZE_RESULT_SUCCESS;

    /// <summary>Calls the Level Zero destroy/free function for this object.</summary>
    protected abstract Native.ze_result_t Destroy(nint native);
}
