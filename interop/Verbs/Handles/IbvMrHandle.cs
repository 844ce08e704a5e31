namespace PdRdma.Interop.Verbs.Handles;

/// <summary>A memory registration (ibv_mr); holds its protection domain.</summary>
public sealed class IbvMrHandle : VerbsHandle
{
    protected override int Destroy(nint native) => Ibv.ibv_dereg_mr(native);

    /// <summary>Local key for scatter/gather entries that reference this registration.</summary>
    public unsafe uint LocalKey => ((Native.ibv_mr*)handle)->lkey;

    /// <summary>Remote key a peer puts in its RDMA WRITE to reach this registration.</summary>
    public unsafe uint RemoteKey => ((Native.ibv_mr*)handle)->rkey;
}
