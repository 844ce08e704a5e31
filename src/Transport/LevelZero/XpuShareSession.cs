namespace PdRdma.Transport.LevelZero;

/// <summary>
/// The owner's side of a region shared with one peer process. On <see cref="XpuSharePath.SameDeviceIpc"/> and
/// <see cref="XpuSharePath.DmaBuf"/> the peer sees the device memory itself and the sync calls do nothing; on
/// <see cref="XpuSharePath.HostStaged"/> the peer sees a host staging region, and the owner copies device → staging
/// before the peer reads (<see cref="PublishToPeer"/>) and staging → device after it wrote (<see cref="AbsorbFromPeer"/>).
/// Owns the staging region, not the device region. Not thread-safe.
/// </summary>
public sealed class XpuShareSession : IDisposable
{
    private readonly HostRegion? _staging;

    internal XpuShareSession(LevelZeroDeviceRegion region, XpuSharePath path, HostRegion? staging)
    {
        Region = region;
        Path = path;
        _staging = staging;
    }

    public LevelZeroDeviceRegion Region { get; }

    public XpuSharePath Path { get; }

    /// <summary>Makes [offset, offset+length) of the device region visible to the peer.</summary>
    public void PublishToPeer(long offset, long length)
    {
        if (_staging is not null) Region.CopyToHost(offset, _staging, offset, length);
    }

    /// <summary>Takes what the peer wrote into [offset, offset+length) into the device region.</summary>
    public void AbsorbFromPeer(long offset, long length)
    {
        if (_staging is not null) Region.CopyFromHost(_staging, offset, offset, length);
    }

    public void Dispose() => _staging?.Dispose();
}
