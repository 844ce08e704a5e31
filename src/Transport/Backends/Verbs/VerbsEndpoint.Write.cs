using PdRdma.Interop.Verbs.Native;
using PdRdma.Transport.Backends.Verbs.Internal;

namespace PdRdma.Transport.Backends.Verbs;

public sealed partial class VerbsEndpoint
{
    // Larger than any region we register, below the 2^31 message limit of common devices.
    private const long MaxRequestBytes = 1L << 30;

    /// <summary>
    /// Posts one batch of RDMA WRITEs and, when <paramref name="notification"/> is given, a SEND after them
    /// carrying it. Completes when the peer acknowledged every request (every byte is placed, the
    /// notification delivered). Waits for send-queue slots when the queue is full (back-pressure).
    /// The payload is copied before the method returns its task; the caller keeps ownership.
    /// Cancellation abandons waiting: requests already posted still complete, no notification is sent
    /// if it was not yet posted.
    /// </summary>
    /// <exception cref="TransferException">
    /// UnknownRegion / OutOfBounds for a bad write (nothing posted); AccessDenied when the peer's device
    /// refused a write (outside its registered window or a revoked key); PeerLost when the peer stopped
    /// acknowledging or the queue pair was torn down.
    /// </exception>
    public Task WriteAsync(IReadOnlyList<VerbsWrite> writes, byte[]? notification, CancellationToken ct)
    {
        var requests = BuildRequests(writes, out long totalBytes);
        if (notification is not null && notification.Length + NotificationHeaderBytes > _device.Options.NotificationSlotBytes)
            throw new TransferException(TransferErrorCode.Unsupported, $"notification of {notification.Length} bytes exceeds the verbs slot of {_device.Options.NotificationSlotBytes - NotificationHeaderBytes} bytes");
        if (requests.Count == 0 && notification is null) return Task.CompletedTask;
        return PostAsync(requests, notification is null ? null : (notifySlot, list) =>
        {
            var slot = _sendSlots.Slot(notifySlot);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(slot, totalBytes);
            notification.CopyTo(slot[NotificationHeaderBytes..]);
            list.Add(new WorkRequest(ibv_wr_opcode.IBV_WR_SEND, _sendSlots.SlotAddress(notifySlot),
                (uint)(notification.Length + NotificationHeaderBytes), _sendSlots.LocalKey, 0, 0));
        }, ct);
    }

    /// <summary>
    /// Posts one batch of RDMA WRITEs, the last of them as WRITE_WITH_IMM carrying <paramref name="immediate"/> (a
    /// zero-length SEND_WITH_IMM when the batch has no bytes): the peer reads it from <see cref="Notifications"/>
    /// (<see cref="VerbsNotification.Immediate"/>) only after every byte of the batch is placed (RC ordering), with no
    /// separate message and no copy. Otherwise as <see cref="WriteAsync(IReadOnlyList{VerbsWrite}, byte[], CancellationToken)"/>.
    /// </summary>
    public Task WriteAsync(IReadOnlyList<VerbsWrite> writes, uint immediate, CancellationToken ct)
    {
        var requests = BuildRequests(writes, out _);
        return PostAsync(requests, (_, list) =>
        {
            if (list.Count > 0 && list[^1].Opcode == ibv_wr_opcode.IBV_WR_RDMA_WRITE)
                list[^1] = list[^1] with { Opcode = ibv_wr_opcode.IBV_WR_RDMA_WRITE_WITH_IMM, Immediate = immediate };
            else
                list.Add(new WorkRequest(ibv_wr_opcode.IBV_WR_SEND_WITH_IMM, 0, 0, 0, 0, 0, immediate));
        }, ct);
    }

    /// <summary>
    /// Posts <paramref name="requests"/> in chains of up to <see cref="VerbsOptions.SignalEvery"/> (one doorbell each,
    /// only the chain's last signalled) and completes when the last chain completed. <paramref name="notify"/>, when
    /// given, gets a notification slot (bounding the receives the peer must have posted) and adds the notification.
    /// </summary>
    private async Task PostAsync(List<WorkRequest> requests, Action<int, List<WorkRequest>>? notify, CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _postOrder.WaitAsync(ct).ConfigureAwait(false);
        ulong batch = 0;
        int notifySlot = -1;
        bool postedLast = false;
        try
        {
            ThrowIfUnusable();
            if (notify is not null)
            {
                await _notifySlots.WaitAsync(ct).ConfigureAwait(false);
                lock (_gate)
                {
                    ThrowIfUnusableLocked();
                    notifySlot = _freeNotifySlots.Pop();
                    notify(notifySlot, requests);
                }
            }

            lock (_gate)
            {
                batch = ++_nextBatch;
                _pending[batch] = done;
            }

            int signalEvery = Math.Clamp(_device.Options.SignalEvery, 1, Math.Min(SendPoster.MaxChain, _sendQueueDepth));
            for (int start = 0; start < requests.Count; start += signalEvery)
            {
                int count = Math.Min(signalEvery, requests.Count - start);
                int acquired = 0;
                try
                {
                    for (; acquired < count; acquired++) await _credits.WaitAsync(ct).ConfigureAwait(false);
                }
                catch
                {
                    if (acquired > 0) _credits.Release(acquired);
                    throw;
                }
                bool last = start + count == requests.Count;
                PostChunk(requests, start, count, batch, last ? notifySlot : -1, last);
                postedLast = last;
            }
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                if (!postedLast)
                {
                    if (batch != 0) _pending.Remove(batch);
                    if (notifySlot >= 0 && _failure is null) { _freeNotifySlots.Push(notifySlot); _notifySlots.Release(); }
                }
            }
            if (!postedLast) done.TrySetException(ex);
            throw;
        }
        finally
        {
            _postOrder.Release();
        }
        await done.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private void PostChunk(List<WorkRequest> requests, int start, int count, ulong batch, int notifySlot, bool last)
    {
        lock (_gate)
        {
            if (_failure is not null || _disposed)
            {
                _credits.Release(count);
                ThrowIfUnusableLocked();
            }
            _signalled.Enqueue(new SignalledChunk(batch, count, notifySlot, last));
            int rc = SendPoster.Post(_qp, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(requests).Slice(start, count), batch);
            if (rc != 0)
            {
                var error = new TransferException(TransferErrorCode.Protocol, $"ibv_post_send to {PeerName} failed: {VerbsErrors.Errno(rc)}");
                FailLocked(error, batch, log: true);
                throw error;
            }
        }
    }

    private List<WorkRequest> BuildRequests(IReadOnlyList<VerbsWrite> writes, out long totalBytes)
    {
        var requests = new List<WorkRequest>(writes.Count + 1);
        totalBytes = 0;
        Dictionary<string, VerbsRemoteRegion> remote;
        lock (_gate)
        {
            ThrowIfUnusableLocked();
            remote = _remote;
        }
        foreach (var write in writes)
        {
            if (write.Length < 0 || write.SourceOffset < 0 || write.SourceOffset + write.Length > write.Source.Length)
                throw new TransferException(TransferErrorCode.OutOfBounds, $"source [{write.SourceOffset}, {write.SourceOffset + write.Length}) is outside registration {write.Source.RegionId} of {write.Source.Length} bytes");
            if (!remote.TryGetValue(write.TargetRegion, out var target))
                throw new TransferException(TransferErrorCode.UnknownRegion, $"peer {PeerName} has no region '{write.TargetRegion}'");
            if (write.TargetOffset < 0 || write.TargetOffset + write.Length > target.Length)
                throw new TransferException(TransferErrorCode.OutOfBounds, $"target [{write.TargetOffset}, {write.TargetOffset + write.Length}) is outside region {target.RegionId} of {target.Length} bytes on {PeerName}");
            for (long done = 0; done < write.Length; done += MaxRequestBytes)
            {
                long length = Math.Min(MaxRequestBytes, write.Length - done);
                requests.Add(new WorkRequest(ibv_wr_opcode.IBV_WR_RDMA_WRITE,
                    (ulong)write.Source.Address + (ulong)(write.SourceOffset + done), (uint)length, write.Source.LocalKey,
                    target.Address + (ulong)(write.TargetOffset + done), write.RemoteKey ?? target.RemoteKey));
            }
            totalBytes += write.Length;
        }
        return requests;
    }

    private void ThrowIfUnusable()
    {
        lock (_gate) ThrowIfUnusableLocked();
    }

    private void ThrowIfUnusableLocked()
    {
        if (_failure is not null)
            throw new TransferException(_failure.Code == TransferErrorCode.DeviceUnavailable ? TransferErrorCode.DeviceUnavailable : TransferErrorCode.PeerLost,
                $"the queue pair to {PeerName} was torn down: {_failure.Detail}");
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_connected) throw new InvalidOperationException($"the endpoint to {PeerName} is not connected yet");
    }
}
