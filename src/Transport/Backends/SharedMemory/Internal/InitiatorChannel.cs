using System.Runtime.CompilerServices;
using System.Text;
using static PdRdma.Transport.Backends.SharedMemory.Internal.ChannelLayout;
using static PdRdma.Transport.Backends.SharedMemory.Internal.SharedWords;

namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>
/// The initiator's end of a connection's channel: posts batch records into the ring (one poster at a time; a full ring
/// makes the poster wait), and turns the target's completed ticket and error entries into finished batches. A caller
/// first busy-polls for its own completion (the common small-batch case finishes without a thread hop); after that a
/// poller thread sleeps on the completion futex for it.
/// </summary>
internal sealed unsafe class InitiatorChannel : IDisposable
{
    private readonly ChannelMapping _map;
    private readonly byte* _base;
    private readonly byte* _grants;
    private readonly Lock _post = new();
    private readonly Lock _drain = new();
    private readonly Queue<CarriedBatch> _pending = new();
    private readonly Dictionary<long, TransferException> _errors = new();
    private readonly AutoResetEvent _work = new(false);
    private readonly Thread _poller;
    private readonly Func<bool> _completionOrClosed;
    private readonly string _peer;
    private long _tail;
    private long _ticket;
    private long _errorHead;
    private long _waitingFor;
    private int _sleeper;
    private readonly AdaptiveSpin _callerSpin = new();
    private volatile TransferException? _fault;
    private volatile bool _disposed;

    public InitiatorChannel(ChannelOffer offer, string peer)
    {
        _peer = peer;
        RingBytes = offer.RingBytes;
        ErrorSlots = offer.ErrorSlots;
        GrantSlots = offer.GrantSlots;
        _map = ChannelMapping.Open(offer.Path, offer.RingBytes, offer.ErrorSlots, offer.GrantSlots);
        _base = _map.Base;
        _grants = _map.Grants;
        if (unchecked((ulong)Load64(_base + MagicAt)) != Magic || Load32(_base + VersionAt) != ChannelLayout.Version || Load32(_base + RingBytesAt) != RingBytes
            || Load32(_base + ErrorSlotsAt) != ErrorSlots || Load32(_base + GrantSlotsAt) != GrantSlots)
        {
            _map.Dispose();
            throw new TransferException(TransferErrorCode.Protocol, $"shm: the channel file peer '{peer}' offered does not hold the channel it described");
        }
        RequiresGrant = offer.RequiresGrant;
        MaxWritesPerBatch = offer.MaxWritesPerBatch;
        MaxBatchBytes = offer.MaxBatchBytes;
        _completionOrClosed = () => Load64(_base + CompletedAt) >= Volatile.Read(ref _waitingFor) || Load32(_base + TargetClosedAt) != 0 || _disposed;
        _poller = new Thread(Poll) { IsBackground = true, Name = $"shm completions {peer}" };
        _poller.Start();
    }

    public int RingBytes { get; }
    public int ErrorSlots { get; }
    public int GrantSlots { get; }
    public bool RequiresGrant { get; }

    /// <summary>The target's per-batch limits: a batch over them goes the control-link way and is refused before it copies.</summary>
    public int MaxWritesPerBatch { get; }
    public long MaxBatchBytes { get; }

    /// <summary>The largest record the ring takes (half of it, so that a record never waits for the ring to empty completely).</summary>
    public int MaxRecordBytes => RingBytes / 2;

    public static int RecordBytes(int writes, int notificationBytes) =>
        (int)Align(RecordHeaderBytes + (long)writes * WriteBytes + Math.Max(0, notificationBytes), RecordAlign);

    /// <summary>Whether grant slot <paramref name="slot"/> still holds the live grant of that generation, unexpired.</summary>
    public bool IsLive(int slot, long generation)
    {
        if ((uint)slot >= (uint)GrantSlots) return false;
        var at = _grants + (long)slot * GrantSlotBytes;
        return Load64(at + GrantGeneration) == generation && Load32(at + GrantLive) != 0
            && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < Load64(at + GrantExpires);
    }

    /// <summary>
    /// Posts one batch whose bytes are already placed. Waits while the ring is full (cancellable: then nothing is posted).
    /// </summary>
    public CarriedBatch Post(long batchId, ReadOnlySpan<(int Region, long Offset, long Length)> writes, byte[]? notification,
        bool xxHash3, ulong checksum, int grantSlot, long grantGeneration, CancellationToken ct)
    {
        var length = RecordBytes(writes.Length, notification?.Length ?? 0);
        if (length > MaxRecordBytes) throw new TransferException(TransferErrorCode.PoolFull, $"shm: a batch record of {length} bytes exceeds the ring's {MaxRecordBytes}");
        lock (_post)
        {
            ThrowIfFaulted();
            var offset = (int)(_tail % RingBytes);
            var toEnd = RingBytes - offset;
            var need = length <= toEnd ? length : toEnd + length;
            WaitForSpace(need, ct);
            if (length > toEnd)
            {
                var pad = _base + RingAt + offset;
                Unsafe.WriteUnaligned(pad + RecLength, (uint)toEnd);
                Unsafe.WriteUnaligned(pad + RecKind, KindPad);
                _tail += toEnd;
                offset = 0;
            }
            var record = _base + RingAt + offset;
            var ticket = ++_ticket;
            Unsafe.WriteUnaligned(record + RecLength, (uint)length);
            Unsafe.WriteUnaligned(record + RecKind, KindBatch);
            Unsafe.WriteUnaligned(record + RecTicket, ticket);
            Unsafe.WriteUnaligned(record + RecBatchId, batchId);
            Unsafe.WriteUnaligned(record + RecWriteCount, writes.Length);
            Unsafe.WriteUnaligned(record + RecNotification, notification?.Length ?? -1);
            Unsafe.WriteUnaligned(record + RecFlags, xxHash3 ? FlagXxHash3 : 0);
            Unsafe.WriteUnaligned(record + RecGrantSlot, grantSlot);
            Unsafe.WriteUnaligned(record + RecGrantGeneration, grantGeneration);
            Unsafe.WriteUnaligned(record + RecChecksum, checksum);
            var at = record + RecordHeaderBytes;
            WriteEntries(writes, at);
            at += (long)writes.Length * WriteBytes;
            notification?.CopyTo(new Span<byte>(at, notification.Length));
            var carried = new CarriedBatch(ticket, batchId);
            lock (_drain) _pending.Enqueue(carried);
            _tail += length;
            Store64(_base + TailAt, _tail);
            Ring(_base + DoorbellAt, _base + TargetWaitingAt);
            return carried;
        }
    }

    /// <summary>
    /// The record's write entries. Many are built in a private buffer and streamed into the ring: written in place, each
    /// cache line the target read on the last lap would first be fetched back from its core (~0.1 µs a line, a
    /// millisecond for a KV batch of 16384 blocks).
    /// </summary>
    private static void WriteEntries(ReadOnlySpan<(int Region, long Offset, long Length)> writes, byte* at)
    {
        const int Direct = 64;
        if (writes.Length <= Direct || !StreamingCopy.IsSupported)
        {
            Fill(writes, new Span<byte>(at, writes.Length * WriteBytes));
            return;
        }
        var bytes = writes.Length * WriteBytes;
        var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(bytes);
        try
        {
            Fill(writes, scratch.AsSpan(0, bytes));
            fixed (byte* from = scratch) StreamingCopy.Copy(from, at, bytes);
            StreamingCopy.Fence();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static void Fill(ReadOnlySpan<(int Region, long Offset, long Length)> writes, Span<byte> into)
    {
        var at = 0;
        foreach (var (region, offset, length) in writes)
        {
            var entry = into.Slice(at, WriteBytes);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(entry, region);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(entry[4..], 0);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(entry[8..], offset);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(entry[16..], length);
            at += WriteBytes;
        }
    }

    /// <summary>Completes when the target finished the batch; polls for it briefly on the caller's thread first.</summary>
    public ValueTask WaitAsync(CarriedBatch carried, CancellationToken ct)
    {
        var task = carried.Done.Task;
        // one caller at a time spins, then sleeps on the completion word itself (bounded); the others leave it to the poller
        if (!task.IsCompleted && Interlocked.CompareExchange(ref _sleeper, 1, 0) == 0)
        {
            // the mapping stays until this thread is done with it, even if the connection is disposed meanwhile
            var entered = _map.Enter();
            try
            {
                if (!entered) return new ValueTask(task);
                _callerSpin.Spin(() => { TryDrain(); return task.IsCompleted; });
                var until = Environment.TickCount64 + CallerSleepMicroseconds / 1000 + 1;
                Func<bool> done = () => { TryDrain(); return task.IsCompleted || _fault is not null; };
                Func<bool> finished = () => Load64(_base + CompletedAt) >= carried.Ticket || Load32(_base + TargetClosedAt) != 0 || _disposed;
                while (!done() && Environment.TickCount64 < until && !ct.IsCancellationRequested)
                {
                    Sleep(_base + CompletionDoorbellAt, _base + InitiatorWaitingAt, CallerSleepMicroseconds, finished);
                }
            }
            finally
            {
                if (entered) _map.Exit();
                Volatile.Write(ref _sleeper, 0);
            }
        }
        if (task.IsCompleted) return new ValueTask(task);
        _work.Set();
        return new ValueTask(ct.CanBeCanceled ? task.WaitAsync(ct) : task);
    }

    /// <summary>Faults every batch in flight and every later post.</summary>
    public void Fail(TransferException reason)
    {
        _fault ??= reason;
        lock (_drain)
        {
            while (_pending.TryDequeue(out var carried)) carried.Done.TrySetException(new TransferException(_fault.Code, _fault.Detail, _fault));
        }
        _work.Set();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Fail(new TransferException(TransferErrorCode.PeerLost, $"shm: connection to {_peer} was closed locally"));
        _work.Set();
        Ring(_base + CompletionDoorbellAt, _base + InitiatorWaitingAt);
        Ring(_base + SpaceDoorbellAt, _base + ProducerWaitingAt);
        _poller.Join();
        // a poster still waiting for space holds the post lock: it sees the fault and leaves before the unmapping
        lock (_post) lock (_drain) _map.Dispose();
        _work.Dispose();
    }

    private void ThrowIfFaulted()
    {
        if (_fault is { } fault) throw new TransferException(fault.Code, fault.Detail, fault);
    }

    private void WaitForSpace(int need, CancellationToken ct)
    {
        bool Room() => _fault is not null || ct.IsCancellationRequested || RingBytes - (_tail - Load64(_base + HeadAt)) >= need || Load32(_base + TargetClosedAt) != 0;
        while (!Room())
        {
            if (!TargetChannel.SpinFor(Room)) Sleep(_base + SpaceDoorbellAt, _base + ProducerWaitingAt, 100_000, Room);
        }
        ThrowIfFaulted();
        ct.ThrowIfCancellationRequested();
        if (Load32(_base + TargetClosedAt) != 0) throw new TransferException(TransferErrorCode.PeerLost, $"shm: peer {_peer} stopped serving the channel");
    }

    private void TryDrain()
    {
        if (!_drain.TryEnter()) return;
        try
        {
            DrainLocked();
        }
        finally
        {
            _drain.Exit();
        }
    }

    /// <summary>Reads the completed ticket first, then the errors (posted before it), then finishes every batch up to it.</summary>
    private void DrainLocked()
    {
        if (_disposed || _pending.Count == 0) return;
        var completed = Load64(_base + CompletedAt);
        var errorTail = Load64(_base + ErrorTailAt);
        if (errorTail < _errorHead || errorTail - _errorHead > ErrorSlots)
        {
            FailLocked(new TransferException(TransferErrorCode.Protocol, $"shm: peer {_peer} posted error entries up to {errorTail} with {_errorHead} read, in a ring of {ErrorSlots}"));
            return;
        }
        for (; _errorHead < errorTail; _errorHead++)
        {
            var entry = _base + ErrorsAt(RingBytes) + _errorHead % ErrorSlots * ErrorEntryBytes;
            var ticket = Unsafe.ReadUnaligned<long>(entry + ErrTicket);
            var code = (TransferErrorCode)Unsafe.ReadUnaligned<int>(entry + ErrCode);
            var length = Math.Clamp(Unsafe.ReadUnaligned<int>(entry + ErrMessageLength), 0, ErrMessageMax);
            var message = Encoding.UTF8.GetString(new ReadOnlySpan<byte>(entry + ErrMessage, length));
            if (!Enum.IsDefined(code)) code = TransferErrorCode.Protocol;
            var error = new TransferException(code, message);
            if (ticket == -1)
            {
                FailLocked(error);
                return;
            }
            _errors[ticket] = error;
        }
        Store64(_base + ErrorHeadAt, _errorHead);
        while (_pending.TryPeek(out var next) && next.Ticket <= completed)
        {
            _pending.Dequeue();
            if (_errors.Remove(next.Ticket, out var refusal)) next.Done.TrySetException(refusal);
            else next.Done.TrySetResult();
        }
        if (_pending.Count > 0 && Load32(_base + TargetClosedAt) != 0)
        {
            FailLocked(new TransferException(TransferErrorCode.PeerLost, $"shm: peer {_peer} stopped serving the channel"));
        }
    }

    private void FailLocked(TransferException reason)
    {
        _fault ??= reason;
        while (_pending.TryDequeue(out var carried)) carried.Done.TrySetException(new TransferException(_fault.Code, _fault.Detail, _fault));
    }

    private void Poll()
    {
        if (!_map.Enter()) return;
        try
        {
            while (!_disposed)
            {
                _work.WaitOne(200);
                while (!_disposed)
                {
                    long first;
                    lock (_drain)
                    {
                        DrainLocked();
                        if (!_pending.TryPeek(out var next)) break;
                        first = next.Ticket;
                    }
                    Volatile.Write(ref _waitingFor, first);
                    if (!TargetChannel.SpinFor(_completionOrClosed)) Sleep(_base + CompletionDoorbellAt, _base + InitiatorWaitingAt, 100_000, _completionOrClosed);
                }
            }
        }
        finally
        {
            _map.Exit();
        }
    }
}
