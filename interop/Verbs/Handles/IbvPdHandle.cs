namespace PdRdma.Interop.Verbs.Handles;

/// <summary>A protection domain (ibv_pd); holds its context.</summary>
public sealed class IbvPdHandle : VerbsHandle
{
    protected override int Destroy(nint native) => Ibv.ibv_dealloc_pd(native);
}
