namespace PdRdma.Interop.Verbs.Handles;

/// <summary>
/// A libibverbs object pointer. Each handle holds a reference on the handles it was created from
/// (a memory region on its protection domain, a queue pair on its PD and CQs, everything on the
/// device context), so teardown order follows from the references: a parent is destroyed only after
/// its last child. Thread-safe as any SafeHandle.
/// </summary>
public abstract class VerbsHandle : PdRdma.Interop.Handles.ParentedHandle
{
    /// <inheritdoc/>
    protected sealed override bool ReleaseNative(nint native) => Destroy(native) == 0;

    /// <summary>Calls the libibverbs destroy function for this object; 0 on success.</summary>
    protected abstract int Destroy(nint native);
}
