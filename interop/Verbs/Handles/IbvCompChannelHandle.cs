namespace PdRdma.Interop.Verbs.Handles;

/// <summary>A completion event channel (ibv_comp_channel); holds its context.</summary>
public sealed class IbvCompChannelHandle : VerbsHandle
{
    protected override int Destroy(nint native) => Ibv.ibv_destroy_comp_channel(native);
}
