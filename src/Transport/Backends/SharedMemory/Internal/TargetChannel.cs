using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using static PdRdma.Transport.Backends.SharedMemory.Internal.ChannelLayout;
using static PdRdma.Transport.Backends.SharedMemory.Internal.SharedWords;

namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>
/// The target's end of a connection's channel: one consumer thread reads batch records from the ring, copies each out
/// of shared memory before looking at it (the initiator can change the ring under it), has the agent check it as it
/// checks a control-link batch, delivers the notification, and publishes the completion (or the typed refusal). It
/// also publishes the peer's grants in the table the initiator maps read-only. A record whose framing lies (length,
/// ticket) fails the connection; a record whose contents lie gets a typed refusal and the connection goes on.
/// </summary>
internal sealed unsafe class TargetChannel : IDisposable
{
    private const int MaxRegionNames = 4096;
    private const int MaxNotificationBytes = 64 << 10;

    private readonly ChannelMapping _map;
    private readonly ICarriedBatchTarget _sink;
    private readonly string _peer;
    private readonly byte* _base;
    private readonly byte* _grants;
    private readonly (string? Grant, long Generation)[] _grantNames;
    private readonly long[] _generations;
    private readonly Lock _grantLock = new();
    private readonly Func<bool> _workOrStop;
    private readonly AdaptiveSpin _idleSpin = new();
    private readonly Func<bool> _errorSpaceOrStop;
    private string[] _regions = [];
    private Thread? _thread;
    private volatile bool _stopping;
    private bool _closed;
    private long _head;
    private long _errorTail;
    private long _expectedTicket = 1;

    public TargetChannel(ICarriedBatchTarget sink, string peer, int ringBytes = DefaultRingBytes, int errorSlots = DefaultErrorSlots, int grantSlots = DefaultGrantSlots)
    {
        _sink = sink;
        _peer = peer;
        RingBytes = ringBytes;
        ErrorSlots = errorSlots;
        GrantSlots = grantSlots;
        _map = ChannelMapping.Create(ringBytes, errorSlots, grantSlots, out var path);
        Path = path;
        _base = _map.Base;
        _grants = _map.Grants;
        _grantNames = new (string?, long)[grantSlots];
        _generations = new long[grantSlots];
        Store64(_base + MagicAt, unchecked((long)Magic));
        Store32(_base + VersionAt, ChannelLayout.Version);
        Store32(_base + RingBytesAt, ringBytes);
        Store32(_base + ErrorSlotsAt, errorSlots);
        Store32(_base + GrantSlotsAt, grantSlots);
        Store32(_base + RequiresGrantAt, sink.RequiresGrant ? 1 : 0);
        _workOrStop = () => _stopping || Load64(_base + TailAt) != _head;
        _errorSpaceOrStop = () => _stopping || _errorTail - Load64(_base + ErrorHeadAt) < ErrorSlots;
    }

    public string Path { get; }
    public int RingBytes { get; }
    public int ErrorSlots { get; }
    public int GrantSlots { get; }

    public ChannelOffer Offer => new(ChannelLayout.Version, Path, RingBytes, ErrorSlots, GrantSlots, _sink.RequiresGrant, _sink.MaxWritesPerBatch, _sink.MaxBatchBytes);

    /// <summary>Starts serving once the initiator mapped the channel and named its regions; the file's name is removed.</summary>
    public void Start(ChannelRegions regions)
    {
        if (regions.Version != ChannelLayout.Version) throw new TransferException(TransferErrorCode.VersionMismatch, $"shm: peer '{_peer}' speaks channel version {regions.Version}, this target {ChannelLayout.Version}");
        if (regions.Regions is null || regions.Regions.Length > MaxRegionNames || regions.Regions.Any(r => r is null || r.Length > 1024))
        {
            throw new TransferException(TransferErrorCode.Protocol, $"shm: peer '{_peer}' named {regions.Regions?.Length} regions (at most {MaxRegionNames}, each a name of at most 1024 characters)");
        }
        _regions = regions.Regions;
        _map.Unlink();
        _thread = new Thread(Run) { IsBackground = true, Name = $"shm target {_peer}" };
        _thread.Start();
    }

    /// <summary>Publishes a live grant in the table; null when the table is full (the grant's batches then take the control link).</summary>
    public (int Slot, long Generation)? Publish(string grant, DateTimeOffset expires)
    {
        lock (_grantLock)
        {
            if (_closed) return null;
            for (var slot = 0; slot < GrantSlots; slot++)
            {
                if (_grantNames[slot].Grant is not null) continue;
                var generation = ++_generations[slot];
                var at = _grants + (long)slot * GrantSlotBytes;
                Store64(at + GrantExpires, expires.ToUnixTimeMilliseconds());
                Store64(at + GrantGeneration, generation);
                Store32(at + GrantLive, 1);
                _grantNames[slot] = (grant, generation);
                return (slot, generation);
            }
            return null;
        }
    }

    /// <summary>Ends a published grant: the initiator sees it not live at its next check, with no message.</summary>
    public void Revoke(int slot, long generation)
    {
        lock (_grantLock)
        {
            if (_closed || (uint)slot >= (uint)GrantSlots || _grantNames[slot].Generation != generation || _grantNames[slot].Grant is null) return;
            Store32(_grants + (long)slot * GrantSlotBytes + GrantLive, 0);
            _grantNames[slot] = (null, generation);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (_base != null) Ring(_base + DoorbellAt, _base + TargetWaitingAt);
        if (_thread is { } thread && thread != Thread.CurrentThread) thread.Join();
        lock (_grantLock) _closed = true;
        _map.Dispose();
    }

    private void Run()
    {
        if (!_map.Enter()) return;
        try
        {
            while (!_stopping)
            {
                var tail = Load64(_base + TailAt);
                if (tail == _head)
                {
                    if (!_idleSpin.Spin(_workOrStop)) Sleep(_base + DoorbellAt, _base + TargetWaitingAt, 200_000, _workOrStop);
                    continue;
                }
                if (tail < _head || tail - _head > RingBytes)
                {
                    Fatal(new TransferException(TransferErrorCode.Protocol, $"shm: peer '{_peer}' moved the ring tail to {tail} with the head at {_head} in a ring of {RingBytes} bytes"));
                    return;
                }
                if (!ConsumeOne(tail)) return;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Fatal(ex as TransferException ?? new TransferException(TransferErrorCode.Protocol, $"shm: serving peer '{_peer}' failed: {ex.Message}", ex));
        }
        finally
        {
            Store32(_base + TargetClosedAt, 1);
            Ring(_base + CompletionDoorbellAt, _base + InitiatorWaitingAt);
            _map.Exit();
        }
    }

    /// <summary>Busy-polls for up to <see cref="SharedWords.SpinMicroseconds"/>; true as soon as <paramref name="ready"/> holds.</summary>
    internal static bool SpinFor(Func<bool> ready)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * SpinMicroseconds / 1_000_000;
        do
        {
            for (var i = 0; i < 8; i++)
            {
                if (ready()) return true;
                Thread.SpinWait(8);
            }
        }
        while (Stopwatch.GetTimestamp() < until);
        return ready();
    }

    /// <summary>One record at the head; false when the channel failed.</summary>
    private bool ConsumeOne(long tail)
    {
        var offset = (int)(_head % RingBytes);
        var record = _base + RingAt + offset;
        // framing: read once, checked against what is really there; a lie here leaves no way to find the next record
        var length = Unsafe.ReadUnaligned<uint>(record + RecLength);
        var kind = Unsafe.ReadUnaligned<uint>(record + RecKind);
        if (length < RecordHeaderBytes || length % RecordAlign != 0 || length > tail - _head || length > RingBytes - offset)
        {
            Fatal(new TransferException(TransferErrorCode.Protocol, $"shm: peer '{_peer}' posted a record of {length} bytes at ring offset {offset} with {tail - _head} bytes posted and {RingBytes - offset} to the ring's end"));
            return false;
        }
        if (kind == KindPad)
        {
            Consumed(length);
            return true;
        }
        var ticket = Unsafe.ReadUnaligned<long>(record + RecTicket);
        if (kind != KindBatch || ticket != _expectedTicket)
        {
            Fatal(new TransferException(TransferErrorCode.Protocol, $"shm: peer '{_peer}' posted a record of kind {kind} with ticket {ticket}, ticket {_expectedTicket} expected"));
            return false;
        }
        _expectedTicket++;
        var batchId = Unsafe.ReadUnaligned<long>(record + RecBatchId);
        var writeCount = Unsafe.ReadUnaligned<int>(record + RecWriteCount);
        var notificationBytes = Unsafe.ReadUnaligned<int>(record + RecNotification);
        var flags = Unsafe.ReadUnaligned<int>(record + RecFlags);
        var grantSlot = Unsafe.ReadUnaligned<int>(record + RecGrantSlot);
        var grantGeneration = Unsafe.ReadUnaligned<long>(record + RecGrantGeneration);
        var checksum = Unsafe.ReadUnaligned<ulong>(record + RecChecksum);
        var room = (long)length - RecordHeaderBytes;
        if (writeCount < 0 || notificationBytes < -1 || notificationBytes > MaxNotificationBytes || (long)writeCount * WriteBytes + Math.Max(0, notificationBytes) > room)
        {
            Consumed(length);
            Finish(ticket, batchId, new TransferException(TransferErrorCode.Protocol,
                $"shm: batch {batchId}: a record of {length} bytes cannot hold {writeCount} writes and a notification of {notificationBytes} bytes (at most {MaxNotificationBytes}); refused"));
            return true;
        }
        // copied out before any check: the initiator can rewrite the ring while this thread reads it
        var writes = new (int Region, long Offset, long Length)[writeCount];
        var at = record + RecordHeaderBytes;
        for (var i = 0; i < writeCount; i++, at += WriteBytes)
        {
            writes[i] = (Unsafe.ReadUnaligned<int>(at), Unsafe.ReadUnaligned<long>(at + 8), Unsafe.ReadUnaligned<long>(at + 16));
        }
        byte[]? notification = null;
        if (notificationBytes >= 0)
        {
            notification = new byte[notificationBytes];
            new ReadOnlySpan<byte>(at, notificationBytes).CopyTo(notification);
        }
        Consumed(length);

        TransferException? refusal = null;
        try
        {
            var grant = ResolveGrant(batchId, grantSlot, grantGeneration);
            var names = _regions;
            var checksumKind = (flags & FlagXxHash3) != 0 ? ChecksumKind.XxHash3 : ChecksumKind.None;
            var resolved = _sink.Validate(batchId, grant, writeCount, i =>
            {
                var (region, offset, len) = writes[i];
                if ((uint)region >= (uint)names.Length)
                {
                    throw new TransferException(TransferErrorCode.UnknownRegion, $"write {i}: region index {region} is none of the {names.Length} regions the initiator named");
                }
                return (names[region], offset, len);
            }, Math.Max(0, notificationBytes), checksumKind);
            _sink.Complete(batchId, resolved, notification, checksumKind, checksum);
        }
        catch (TransferException ex)
        {
            refusal = ex;
        }
        Finish(ticket, batchId, refusal);
        return true;
    }

    private string? ResolveGrant(long batchId, int slot, long generation)
    {
        if (slot == -1) return null;
        lock (_grantLock)
        {
            if ((uint)slot < (uint)GrantSlots && _grantNames[slot] is { Grant: { } grant } entry && entry.Generation == generation) return grant;
        }
        throw new TransferException(TransferErrorCode.AccessDenied, $"shm: batch {batchId} names grant slot {slot} generation {generation}, which is not live (the grant ended, or never was)");
    }

    private void Consumed(uint length)
    {
        _head += length;
        Store64(_base + HeadAt, _head);
        Ring(_base + SpaceDoorbellAt, _base + ProducerWaitingAt);
    }

    /// <summary>Publishes a batch's end: the refusal first (if any), then the completed ticket, then one wake-up if the initiator sleeps.</summary>
    private void Finish(long ticket, long batchId, TransferException? refusal)
    {
        if (refusal is not null) PostError(ticket, batchId, refusal);
        Store64(_base + CompletedAt, ticket);
        Ring(_base + CompletionDoorbellAt, _base + InitiatorWaitingAt);
    }

    private void PostError(long ticket, long batchId, TransferException error)
    {
        // the initiator frees entries as it reads them; one that never reads stalls only its own connection
        // (a dedicated thread, not async code: a short sleep between polls is the back-pressure)
        while (!SpinFor(_errorSpaceOrStop)) Thread.Sleep(1);
        if (_stopping) return;
        var entry = _base + ErrorsAt(RingBytes) + _errorTail % ErrorSlots * ErrorEntryBytes;
        Unsafe.WriteUnaligned(entry + ErrTicket, ticket);
        Unsafe.WriteUnaligned(entry + ErrBatchId, batchId);
        Unsafe.WriteUnaligned(entry + ErrCode, (int)error.Code);
        var message = Encoding.UTF8.GetBytes(error.Detail);
        var length = Math.Min(message.Length, ErrMessageMax);
        Unsafe.WriteUnaligned(entry + ErrMessageLength, length);
        message.AsSpan(0, length).CopyTo(new Span<byte>(entry + ErrMessage, length));
        _errorTail++;
        Store64(_base + ErrorTailAt, _errorTail);
    }

    private void Fatal(TransferException reason)
    {
        if (!_stopping && _errorTail - Load64(_base + ErrorHeadAt) < ErrorSlots) PostError(-1, -1, reason);
        _stopping = true;
        _sink.Fail(reason);
    }
}
