using System.Buffers.Binary;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Native;
using PdRdma.Transport.Backends.Verbs.Internal;

namespace PdRdma.Transport.Backends.Verbs;

public sealed partial class VerbsEndpoint
{
    /// <summary>Called by the device's poller thread for every completion of this queue pair. Never throws.</summary>
    internal void OnCompletion(in ibv_wc wc)
    {
        if ((wc.wr_id & ReceiveTag) != 0) OnReceive(wc);
        else OnSend(wc);
    }

    private void OnSend(in ibv_wc wc)
    {
        TaskCompletionSource? completed = null;
        lock (_gate)
        {
            if (_failure is not null) return;
            if (wc.status != ibv_wc_status.IBV_WC_SUCCESS)
            {
                FailLocked(CompletionError(wc), wc.wr_id, log: true);
                return;
            }
            if (!_signalled.TryDequeue(out var chunk)) return;
            _credits.Release(chunk.Requests);
            if (chunk.NotifySlot >= 0)
            {
                _freeNotifySlots.Push(chunk.NotifySlot);
                _notifySlots.Release();
            }
            if (chunk.Last && _pending.Remove(chunk.Batch, out var done)) completed = done;
        }
        completed?.TrySetResult();
    }

    private void OnReceive(in ibv_wc wc)
    {
        VerbsNotification notification;
        lock (_gate)
        {
            if (_failure is not null || _disposed) return;
            if (wc.status != ibv_wc_status.IBV_WC_SUCCESS)
            {
                FailLocked(CompletionError(wc), ulong.MaxValue, log: true);
                return;
            }
            int slot = (int)(wc.wr_id & ~ReceiveTag);
            if ((wc.wc_flags & (uint)ibv_wc_flags.IBV_WC_WITH_IMM) != 0)
            {
                // WRITE_WITH_IMM (the bytes went to the peer's target address, not into the slot) or an empty SEND_WITH_IMM
                uint imm = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(wc.imm_data) : wc.imm_data;
                notification = new VerbsNotification(PeerName, wc.byte_len, [], imm);
            }
            else
            {
                var message = _receiveSlots.Slot(slot)[..(int)Math.Min(wc.byte_len, (uint)_receiveSlots.SlotBytes)];
                if (message.Length < NotificationHeaderBytes)
                {
                    FailLocked(new TransferException(TransferErrorCode.Protocol, $"peer {PeerName} sent a {message.Length}-byte notification, shorter than its header"), ulong.MaxValue, log: true);
                    return;
                }
                notification = new VerbsNotification(PeerName, BinaryPrimitives.ReadInt64LittleEndian(message), message[NotificationHeaderBytes..].ToArray());
            }
            int rc = SendPoster.PostReceive(_qp, wc.wr_id, _receiveSlots.SlotAddress(slot), (uint)_receiveSlots.SlotBytes, _receiveSlots.LocalKey);
            if (rc != 0) FailLocked(new TransferException(TransferErrorCode.Protocol, $"ibv_post_recv for {PeerName} failed: {VerbsErrors.Errno(rc)}"), ulong.MaxValue, log: true);
        }
        _notifications.Writer.TryWrite(notification);
    }

    private TransferException CompletionError(in ibv_wc wc)
    {
        var code = VerbsErrors.Map(wc.status);
        string why = code switch
        {
            TransferErrorCode.AccessDenied => ": the peer's device refused the access (outside the window it registered, or a revoked key)",
            TransferErrorCode.PeerLost => ": the peer stopped acknowledging",
            _ => "",
        };
        return new TransferException(code, $"RDMA to {PeerName} failed: {Ibv.WcStatusString(wc.status)} (status {(int)wc.status}, vendor error 0x{wc.vendor_err:x}){why}");
    }

    /// <summary>Tears the queue pair down because of <paramref name="error"/>; other peers are not affected.</summary>
    internal void Abort(TransferException error)
    {
        lock (_gate)
        {
            if (_failure is null && !_disposed) FailLocked(error, ulong.MaxValue, log: true);
        }
    }

    private void FailLocked(TransferException error, ulong failingBatch, bool log)
    {
        _failure = error;
        foreach (var (batch, done) in _pending)
        {
            done.TrySetException(batch == failingBatch ? error
                : new TransferException(error.Code == TransferErrorCode.DeviceUnavailable ? error.Code : TransferErrorCode.PeerLost,
                    $"the queue pair to {PeerName} was torn down: {error.Detail}"));
        }
        _pending.Clear();
        _signalled.Clear();
        // Wake every writer waiting for a slot; each sees the failure and throws.
        _credits.Release(_sendQueueDepth);
        _notifySlots.Release(_device.Options.NotificationSlots);
        QpTransitions.ToError(_qp);
        _notifications.Writer.TryComplete(error);
        if (log) VerbsLog.TornDown(_device.Logger, QueuePairNumber, PeerName, error.Message);
    }
}
