using System.Runtime.InteropServices;

namespace PdRdma.Interop.Handles;

/// <summary>
/// A native object pointer that holds a reference on the handles it was created from (a memory region on its
/// protection domain, an allocation on its context), so teardown order follows from the references: a parent is
/// released only after its last child, whatever order callers dispose in. Thread-safe as any SafeHandle. Each
/// native library derives its own base (<c>VerbsHandle</c>, <c>ZeHandle</c>) that maps its destroy call's status.
/// </summary>
public abstract class ParentedHandle : SafeHandle
{
    private SafeHandle[] _parents = [];

    /// <summary>An invalid (zero) handle that owns what it later adopts.</summary>
    protected ParentedHandle() : base(0, ownsHandle: true) { }

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0;

    /// <summary>The raw first parent (the context of an allocation), for destroy calls that name it.</summary>
    protected nint ParentHandle => _parents.Length > 0 ? _parents[0].DangerousGetHandle() : 0;

    /// <summary>Takes ownership of <paramref name="native"/> (if non-zero) and a reference on each parent.</summary>
    internal void Adopt(nint native, params SafeHandle[] parents)
    {
        if (native == 0) return;
        var held = new List<SafeHandle>(parents.Length);
        try
        {
            foreach (var parent in parents)
            {
                bool added = false;
                parent.DangerousAddRef(ref added);
                held.Add(parent);
            }
        }
        catch
        {
            foreach (var parent in held) parent.DangerousRelease();
            throw;
        }
        _parents = [.. held];
        SetHandle(native);
    }

    /// <summary>Destroys the native object, then releases the parents.</summary>
    protected sealed override bool ReleaseHandle()
    {
        var released = ReleaseNative(handle);
        foreach (var parent in _parents) parent.DangerousRelease();
        _parents = [];
        return released;
    }

    /// <summary>Calls the library's destroy function for <paramref name="native"/>; true on success.</summary>
    protected abstract bool ReleaseNative(nint native);
}
