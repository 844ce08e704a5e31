using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Threading.Channels;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>
/// The verbs side of one agent connection. Initiator: a batch becomes RDMA WRITEs plus a SEND of its
/// id. Target: a batch counts as placed when that SEND arrives (RC delivers it after the writes).
/// </summary>
internal sealed class VerbsLink : IBackendLink, IPlacedWritesHook
{
    private readonly VerbsBackend _backend;
    private readonly VerbsEndpoint _endpoint;
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _placed = new();
    private readonly Task _receiver;
    private volatile Exception? _closed;

    public VerbsLink(VerbsBackend backend, VerbsEndpoint endpoint)
    {
        _backend = backend;
        _endpoint = endpoint;
        _receiver = Task.Run(ReceiveAsync);
    }

    public async ValueTask WriteAsync(PlannedBatch batch, CancellationToken ct)
    {
        var writes = new VerbsWrite[batch.Writes.Count];
        for (int i = 0; i < writes.Length; i++)
        {
            var w = batch.Writes[i];
            _backend.BeforeSend(w.Source, w.SourceOffset, w.Length);
            writes[i] = new VerbsWrite(_backend.Registration(w.Source), w.SourceOffset, w.Target.RegionId, w.TargetOffset, w.Length);
        }
        var id = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(id, batch.BatchId);
        await _endpoint.WriteAsync(writes, id, ct).ConfigureAwait(false);
    }

    public async ValueTask WaitPlacedAsync(long batchId, CancellationToken ct)
    {
        var placed = _placed.GetOrAdd(batchId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_closed is { } error) placed.TrySetException(error);
        await placed.Task.WaitAsync(ct).ConfigureAwait(false);
        _placed.TryRemove(batchId, out _);
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
                if (notification.Payload.Length != 8) continue;
                long id = BinaryPrimitives.ReadInt64LittleEndian(notification.Payload);
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
        await _endpoint.DisposeAsync().ConfigureAwait(false);
        await _receiver.ConfigureAwait(false);
    }
}
