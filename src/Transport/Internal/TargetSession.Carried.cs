using PdRdma.Transport.Backends;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport.Internal;

/// <summary>
/// The agent's side of batches a backend carries on its own channel (<see cref="BackendCapabilities.CarriesBatches"/>,
/// shm): the same checks as a begin, the same checksum and notification as a commit, called from the backend's
/// consumer thread. A channel beyond repair ends this session as a protocol error on the control link would.
/// </summary>
internal sealed partial class TargetSession : ICarriedBatchTarget
{
    private volatile TransferException? _channelFault;
    private CancellationTokenSource? _channelFailed;

    bool ICarriedBatchTarget.RequiresGrant => core.Options.Authorizer is not null;

    int ICarriedBatchTarget.MaxWritesPerBatch => core.Options.MaxWritesPerBatch;

    long ICarriedBatchTarget.MaxBatchBytes => core.Options.MaxBytesInFlightPerPeer;

    (IMemoryRegion Region, long Offset, long Length)[] ICarriedBatchTarget.Validate(long batchId, string? grant, int writeCount,
        Func<int, (string Region, long Offset, long Length)> write, int notificationBytes, ChecksumKind checksum)
    {
        try
        {
            var writes = ValidateWrites(batchId, grant, writeCount, write, notificationBytes, checksum);
            long total = 0;
            foreach (var w in writes) total += w.Length;
            if (total > core.Options.MaxBytesInFlightPerPeer)
            {
                TransportMetrics.Limit("bytes_in_flight");
                throw new TransferException(TransferErrorCode.PoolFull, $"batch {batchId} of {total} bytes would put more than {core.Options.MaxBytesInFlightPerPeer} bytes in flight from '{_peer}'");
            }
            return writes;
        }
        catch (TransferException ex)
        {
            TransportMetrics.Error("target", ex.Code);
            TransportLog.BatchRejected(core.Logger, batchId, _peer, ex.Code, ex.Detail);
            throw;
        }
    }

    void ICarriedBatchTarget.Complete(long batchId, (IMemoryRegion Region, long Offset, long Length)[] writes, byte[]? notification, ChecksumKind checksum, ulong expected)
    {
        if (checksum == ChecksumKind.XxHash3)
        {
            var actual = ChecksumCalculator.Compute(writes);
            if (actual != expected)
            {
                var ex = new TransferException(TransferErrorCode.ChecksumMismatch,
                    $"batch {batchId}: XxHash3 of the {writes.Sum(w => w.Length)} placed bytes is {actual:x16}, the initiator sent {expected:x16}; no notification");
                TransportMetrics.Error("target", ex.Code);
                TransportLog.BatchRejected(core.Logger, batchId, _peer, ex.Code, ex.Detail);
                throw ex;
            }
        }
        long total = 0;
        foreach (var w in writes) total += w.Length;
        TransportMetrics.Received(_peer, _backend!.Name, total);
        // the notification channel is unbounded: this never waits
        if (notification is not null) core.Notifications.Writer.TryWrite(new TransferNotification(_peer, notification, total));
    }

    void ICarriedBatchTarget.Fail(TransferException reason)
    {
        _channelFault ??= reason;
        try
        {
            _channelFailed?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async ValueTask<Frame?> ReadFrameOrChannelFailureAsync(CancellationToken read, CancellationToken stopping)
    {
        try
        {
            return await connection.ReadFrameAsync(read).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested && _channelFault is { } fault)
        {
            throw new TransferException(fault.Code, fault.Detail, fault);
        }
    }
}
