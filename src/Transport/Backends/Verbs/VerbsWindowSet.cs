using PdRdma.Interop.Verbs.Handles;

namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// The memory windows bound for one grant on one peer's queue pair. Disposing it deallocates them (ibv_dealloc_mw):
/// from then on the NIC refuses every write with their keys (the initiator sees a remote access error, AccessDenied),
/// and nothing of such a write is placed. Idempotent and thread-safe.
/// </summary>
public sealed class VerbsWindowSet : IDisposable
{
    private readonly IbvMwHandle[] _handles;
    private readonly IbvMrHandle?[] _registrations;
    private int _revoked;

    internal VerbsWindowSet(IReadOnlyList<VerbsWindow> windows, IbvMwHandle[] handles, IbvMrHandle?[] registrations)
    {
        Windows = windows;
        _handles = handles;
        _registrations = registrations;
    }

    /// <summary>What the peer needs to write: one entry per bound window.</summary>
    public IReadOnlyList<VerbsWindow> Windows { get; }

    /// <summary>True once the windows were invalidated.</summary>
    public bool Revoked => Volatile.Read(ref _revoked) != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _revoked, 1) != 0) return;
        foreach (var handle in _handles) handle.Dispose();
        foreach (var registration in _registrations) registration?.Dispose(); // null: the window sits on the region's own (dma-buf) registration
    }
}
