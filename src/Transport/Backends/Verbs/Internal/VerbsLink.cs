using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Threading.Channels;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>
/// The verbs side of one agent connection. Initiator: a batch becomes RDMA WRITEs posted as chains (one doorbell
/// each), the last of them a WRITE_WITH_IMM carrying the low 32 bits of the batch id (a zero-length SEND_WITH_IMM for a
/// batch without bytes). Target: a batch counts as placed when that immediate arrives (RC delivers it after the writes).
/// </summary>
internal sealed class VerbsLink : IBackendLink, IPlacedWritesHook
{
    /// <summary>Most memory windows one grant gets (one per extent run below it; above it the smallest gaps are closed).</summary>
    internal const int MaxWindowsPerGrant = 256;

    private readonly VerbsBackend _backend;
    private readonly VerbsEndpoint _endpoint;
    private readonly IReadOnlyDictionary<string, IMemoryRegion> _localRegions;

    /// <summary>Target: the windows bound per published grant, revoked when the grant ends or the link closes.</summary>
    private readonly ConcurrentDictionary<VerbsWindowSet, byte> _published = new();

    /// <summary>Initiator: the windows of each accepted grant, sorted by region and offset; dropped when the grant ends here.</summary>
    private readonly ConcurrentDictionary<string, VerbsWindow[]> _grants = new(StringComparer.Ordinal);
    // keyed by the low 32 bits of the batch id (what the immediate carries); ids are unique per connection, and far
    // fewer than 2^32 batches are ever in flight at once
    private readonly ConcurrentDictionary<uint, TaskCompletionSource> _placed = new();
    private readonly Task _receiver;
    private volatile Exception? _closed;

    public VerbsLink(VerbsBackend backend, VerbsEndpoint endpoint, IReadOnlyDictionary<string, IMemoryRegion> localRegions)
    {
        _backend = backend;
        _endpoint = endpoint;
        _localRegions = localRegions;
        _receiver = Task.Run(ReceiveAsync);
    }

    public async ValueTask WriteAsync(PlannedBatch batch, CancellationToken ct)
    {
        VerbsWindow[]? windows = null;
        if (batch.Grant is { } grant && !_grants.TryGetValue(grant, out windows))
            throw new TransferException(TransferErrorCode.AccessDenied, $"grant '{grant}' of {_endpoint.PeerName} ended here; nothing sent");
        var writes = new VerbsWrite[batch.Writes.Count];
        for (int i = 0; i < writes.Length; i++)
        {
            var w = batch.Writes[i];
            uint? key = null;
            if (windows is not null)
            {
                key = Find(windows, w.Target.RegionId, w.TargetOffset, w.Length)?.RemoteKey
                    ?? throw new TransferException(TransferErrorCode.AccessDenied, $"write {w.Index}: [{w.TargetOffset}, +{w.Length}) of region '{w.Target.RegionId}' lies in no memory window of grant '{batch.Grant}'; nothing sent");
            }
            _backend.BeforeSend(w.Source, w.SourceOffset, w.Length);
            writes[i] = new VerbsWrite(_backend.Registration(w.Source), w.SourceOffset, w.Target.RegionId, w.TargetOffset, w.Length, key);
        }
        await _endpoint.WriteAsync(writes, (uint)batch.BatchId, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Target: binds a type-2 memory window per extent run of the grant (at most <see cref="MaxWindowsPerGrant"/>) on
    /// this peer's queue pair and returns their keys; revokes them (ibv_dealloc_mw) when the grant ends, after which
    /// the NIC refuses a late write with a remote access error and places none of it.
    /// </summary>
    public async ValueTask<byte[]?> PublishGrantAsync(GrantWindow window, CancellationToken ct)
    {
        var requests = new List<VerbsWindowRequest>();
        foreach (var run in WindowPlanner.Runs(window.Extents, MaxWindowsPerGrant))
        {
            if (!_localRegions.TryGetValue(run.RegionId, out var region))
                throw new TransferException(TransferErrorCode.UnknownRegion, $"grant '{window.Grant}' names region '{run.RegionId}', which this link does not expose");
            requests.Add(new VerbsWindowRequest(_backend.Registration(region), run.Offset, run.Length));
        }
        var set = await _endpoint.BindWindowsAsync(requests, ct).ConfigureAwait(false);
        _published[set] = 0;
        VerbsLog.GrantPublished(_endpoint.Logger, window.Grant, _endpoint.PeerName, requests.Count, _endpoint.QueuePairNumber, requests.Sum(r => r.Length));
        window.Ended.Register(static state =>
        {
            var (link, published, grant) = ((VerbsLink, VerbsWindowSet, string))state!;
            link.Revoke(published);
            VerbsLog.GrantRevoked(link._endpoint.Logger, grant, link._endpoint.PeerName);
        }, (this, set, window.Grant));
        if (_closed is not null) Revoke(set);
        return WindowBlob.Write(set.Windows);
    }

    /// <summary>Initiator: keeps the windows' keys for batches under the grant until it ends here.</summary>
    /// <exception cref="TransferException">Protocol when the blob is not a list of windows inside the grant (<see cref="WindowBlob.Read"/>).</exception>
    public void AcceptGrant(GrantWindow window, byte[]? blob)
    {
        var windows = WindowBlob.Read(blob, window, _endpoint.PeerName, MaxWindowsPerGrant);
        _grants[window.Grant] = windows;
        window.Ended.Register(static state =>
        {
            var (grants, grant, accepted) = ((ConcurrentDictionary<string, VerbsWindow[]>, string, VerbsWindow[]))state!;
            grants.TryRemove(KeyValuePair.Create(grant, accepted));
        }, (_grants, window.Grant, windows));
    }

    /// <summary>The window (sorted by region and offset) that holds the whole write, or null.</summary>
    private static VerbsWindow? Find(VerbsWindow[] windows, string regionId, long offset, long length)
    {
        int lo = 0, hi = windows.Length - 1, candidate = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int order = string.CompareOrdinal(windows[mid].RegionId, regionId);
            if (order == 0) order = windows[mid].Offset.CompareTo(offset);
            if (order <= 0) { candidate = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return candidate >= 0 && windows[candidate].Covers(regionId, offset, length) ? windows[candidate] : null;
    }

    private void Revoke(VerbsWindowSet set)
    {
        set.Dispose();
        _published.TryRemove(set, out _);
    }

    public async ValueTask WaitPlacedAsync(long batchId, CancellationToken ct)
    {
        var placed = _placed.GetOrAdd((uint)batchId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_closed is { } error) placed.TrySetException(error);
        await placed.Task.WaitAsync(ct).ConfigureAwait(false);
        _placed.TryRemove((uint)batchId, out _);
    }

    public void OnPlaced(IReadOnlyList<(IMemoryRegion Region, long Offset, long Length)> writes)
    {
        foreach (var (region, offset, length) in writes) _backend.AfterPlaced(region, offset, length);
    }

    private async Task ReceiveAsync()
    {
        Exception error;
        try
        {
            await foreach (var notification in _endpoint.Notifications.ReadAllAsync().ConfigureAwait(false))
            {
                uint id;
                if (notification.Immediate is { } immediate) id = immediate;
                else if (notification.Payload.Length == 8) id = (uint)BinaryPrimitives.ReadInt64LittleEndian(notification.Payload);
                else continue;
                _placed.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }
            error = new TransferException(TransferErrorCode.PeerLost, $"the verbs connection to {_endpoint.PeerName} was closed");
        }
        catch (Exception ex)
        {
            error = ex as TransferException ?? new TransferException(TransferErrorCode.PeerLost, $"verbs connection to {_endpoint.PeerName}: {ex.Message}", ex);
        }
        _closed = error;
        foreach (var placed in _placed.Values) placed.TrySetException(error);
    }

    public async ValueTask DisposeAsync()
    {
        _closed ??= new TransferException(TransferErrorCode.PeerLost, $"the verbs link to {_endpoint.PeerName} was closed");
        foreach (var set in _published.Keys) Revoke(set);
        await _endpoint.DisposeAsync().ConfigureAwait(false);
        await _receiver.ConfigureAwait(false);
    }
}
