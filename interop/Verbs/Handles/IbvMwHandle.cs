namespace PdRdma.Interop.Verbs.Handles;

/// <summary>A memory window (ibv_mw); holds its protection domain. Releasing it deallocates the window, which invalidates its remote key.</summary>
public sealed class IbvMwHandle : VerbsHandle
{
    protected override int Destroy(nint native) => Ibv.DeallocMw(native);

    /// <summary>The window's current remote key (its low 8 bits change with every bind: see <see cref="Ibv.IncRkey"/>).</summary>
    public unsafe uint RemoteKey => ((Native.ibv_mw*)handle)->rkey;
}
