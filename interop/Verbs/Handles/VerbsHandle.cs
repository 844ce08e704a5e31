using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Handles;

/// <summary>
/// A libibverbs object pointer. Each handle holds a reference on the handles it was created from
/// (a memory region on its protection domain, a queue pair on its PD and CQs, everything on the
/// device context), so teardown order follows from the references: a parent is destroyed only after
/// its last child. Thread-safe as any SafeHandle.
/// </summary>
public abstract class VerbsHandle : SafeHandle
{
    private SafeHandle[] _parents = [];

    protected VerbsHandle() : base(0, ownsHandle: true) { }

    public override bool IsInvalid => handle == 0;

    /// <summary>Takes ownership of <paramref name="native"/> (if non-null) and a reference on each parent.</summary>
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

    protected sealed override bool ReleaseHandle()
    {
        int rc = Destroy(handle);
        foreach (var parent in _parents) parent.DangerousRelease();
        _parents = [];
        return rc == 0;
    }

    /// <summary>Calls the libibverbs destroy function for this object; 0 on success.</summary>
    protected abstract int Destroy(nint native);
}
