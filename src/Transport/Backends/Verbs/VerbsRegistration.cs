using PdRdma.Interop.Verbs.Handles;

namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// A window [offset, offset+length) of a region registered with the RDMA device: pinned, with a local
/// key for outgoing writes and a remote key peers use to write into it. The region must outlive it.
/// Disposing it revokes the remote key: a peer's later write fails with AccessDenied.
/// </summary>
public sealed class VerbsRegistration : IDisposable
{
    private readonly IbvMrHandle _mr;

    internal VerbsRegistration(string regionId, nint address, long length, IbvMrHandle mr)
    {
        RegionId = regionId;
        Address = address;
        Length = length;
        _mr = mr;
    }

    public string RegionId { get; }

    /// <summary>Start of the registered window in this process.</summary>
    public nint Address { get; }

    public long Length { get; }

    public uint LocalKey => _mr.LocalKey;

    public uint RemoteKey => _mr.RemoteKey;

    /// <summary>Registered through a dma-buf (device memory): its address is not host memory ibv_reg_mr could pin again.</summary>
    internal bool IsDmaBuf { get; init; }

    /// <summary>The ibv_mr a memory window is bound to (valid while this registration lives).</summary>
    internal nint NativeHandle => _mr.DangerousGetHandle();

    /// <summary>The descriptor a peer needs to write into this window.</summary>
    public VerbsRemoteRegion Describe() => new(RegionId, (ulong)Address, Length, RemoteKey);

    public void Dispose() => _mr.Dispose();
}
