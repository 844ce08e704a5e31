namespace PdRdma.Interop.Verbs.Handles;

/// <summary>A completion queue (ibv_cq); holds its context and its channel, if any.</summary>
public sealed class IbvCqHandle : VerbsHandle
{
    protected override int Destroy(nint native) => Ibv.ibv_destroy_cq(native);
}
