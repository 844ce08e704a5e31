using System.Runtime.InteropServices;

namespace PdRdma.Interop.LevelZero.Handles;

/// <summary>
/// A Level Zero object (context, allocation, IPC mapping, command list). Each handle holds a reference on the
/// handles it was created from (an allocation on its context), so a context is destroyed only after its last
/// allocation is freed, whatever order callers dispose in. Thread-safe as any SafeHandle.
/// </summary>
public abstract class ZeHandle : SafeHandle
{
    private SafeHandle[] _parents = [];

    protected ZeHandle() : base(0, ownsHandle: true) { }

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

    protected sealed override bool ReleaseHandle()
    {
        var result = Destroy(handle);
        foreach (var parent in _parents) parent.DangerousRelease();
        _parents = [];
        return result == Native.ze_result_t.ZE_RESULT_SUCCESS;
    }

    /// <summary>Calls the Level Zero destroy/free function for this object.</summary>
    protected abstract Native.ze_result_t Destroy(nint native);
}
