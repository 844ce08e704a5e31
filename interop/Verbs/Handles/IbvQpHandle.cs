namespace PdRdma.Interop.Verbs.Handles;

/// <summary>A queue pair (ibv_qp); holds its protection domain and completion queues.</summary>
public sealed class IbvQpHandle : VerbsHandle
{
    protected override int Destroy(nint native) => Ibv.ibv_destroy_qp(native);

    /// <summary>The queue pair number a peer addresses.</summary>
    public unsafe uint QpNumber => ((Native.ibv_qp*)handle)->qp_num;
}
