namespace PdRdma.Interop.Verbs.Handles;

/// <summary>A device context (ibv_context) opened by Ibv.OpenDevice.</summary>
public sealed class IbvContextHandle : VerbsHandle
{
    protected override int Destroy(nint native) => Ibv.ibv_close_device(native);
}
