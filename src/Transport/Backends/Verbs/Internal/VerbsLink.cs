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
    private readonly VerbsBackend _backend;
    private readonly VerbsEndpoint _endpoint;
    // keyed by the low 32 bits of the batch id (what the immediate carries); ids are unique per connection, and far
    // fewer than 2^32 batches are ever in flight at once
    private readonly ConcurrentDictionary<uint, TaskCompletionSource> _placed = new();
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
        await _endpoint.WriteAsync(writes, (uint)batch.BatchId, ct).ConfigureAwait(false);
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
        await _endpoint.DisposeAsync().ConfigureAwait(false);
        await _receiver.ConfigureAwait(false);
    }
}
