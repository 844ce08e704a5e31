namespace PdRdma.Transport.Backends.SharedMemory;

/// <summary>
/// Same host only: the initiator maps the target's region file (MAP_SHARED) and copies the bytes into it directly; the
/// begin/proceed/commit/done frames and the notification go over the control link. The target still validates every
/// write first. Trust boundary: a same-host peer that can open the file could write anywhere in it, so validation here
/// guards against mistakes; the file's permissions guard against other users.
/// </summary>
public sealed class SharedMemoryBackend : ITransferBackend
{
    private static readonly BackendCapabilities Caps = new(new HashSet<MemoryKind> { MemoryKind.Host }, Notifications: true, SameHostOnly: true, DataOverControlLink: false);

    public string Name => "shm";

    public BackendCapabilities Capabilities => Caps;

    public bool IsAvailable(out string reason)
    {
        reason = "";
        return true;
    }

    public byte[]? DescribeRegion(IMemoryRegion region) => null;

    public Task<IBackendLink> ConnectAsync(BackendConnectContext context, CancellationToken ct)
    {
        var unmappable = context.RemoteRegions.Values.Where(r => r.SharedPath is null).Select(r => r.RegionId).ToArray();
        if (context.RemoteRegions.Count > 0 && unmappable.Length == context.RemoteRegions.Count)
        {
            throw new TransferException(TransferErrorCode.Unsupported, $"shm: none of peer {context.PeerNodeId}'s regions has a shared file ({string.Join(", ", unmappable)})");
        }
        return Task.FromResult<IBackendLink>(new SharedMemoryLink(context.RemoteRegions));
    }

    public Task<IBackendLink> AcceptAsync(BackendConnectContext context, CancellationToken ct) =>
        Task.FromResult<IBackendLink>(new SharedMemoryLink(new Dictionary<string, RegionDescriptor>()));

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
