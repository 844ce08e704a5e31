using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using MessagePack;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport.Internal;

/// <summary>
/// One TCP control link: length-prefixed frames, one writer at a time, one reader (the owner's loop). Frames are
/// gathered in one send buffer and go out with one system call per flush (a batch's begin, data run and commit
/// together). The reader keeps its own receive buffer; on the owner's dedicated receive thread
/// (<see cref="StartReceiveThread"/>) it reads the socket synchronously, so a frame that arrives wakes that thread
/// directly instead of passing through the runtime's socket engine and the thread pool; anywhere else it awaits.
/// Socket failures become <see cref="TransferException"/> PeerLost; framing failures Protocol. Writes run on the
/// connection's own lifetime, never a caller's token, so a cancelled caller cannot cut a frame in half.
/// </summary>
internal sealed class ControlConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly byte[] _receiveTag = new byte[FrameMac.TagBytes];
    private FrameMac? _sendMac;
    private FrameMac? _receiveMac;
    private bool _dataMac;
    private int _frameLimit;
    private int _disposed;

    /// <summary>Received bytes not yet consumed: [_rxStart, _rxEnd) of _rx.</summary>
    private byte[] _rx = new byte[ReceiveBufferBytes];
    private int _rxStart;
    private int _rxEnd;

    /// <summary>Frames (and small payloads) waiting for the next flush: [0, _txLength) of _tx, rented from the pool.</summary>
    private byte[] _tx = ArrayPool<byte>.Shared.Rent(SendBufferBytes);
    private int _txLength;

    /// <summary>The managed id of the thread that may block in a receive (0: none; every read awaits).</summary>
    private volatile int _receiveThread;

    /// <summary>Payloads up to this size are copied into the send buffer (one system call for many); larger go straight out.</summary>
    private const int CopyBelowBytes = 64 << 10;

    /// <summary>Buffered bytes that trigger a flush even mid-batch (bounded memory, a steady stream).</summary>
    private const int FlushThreshold = 256 << 10;

    private const int SendBufferBytes = 64 << 10;
    private const int ReceiveBufferBytes = 64 << 10;

    /// <summary>Raw reads of at least this many bytes beyond what is buffered go straight to their destination.</summary>
    private const int DirectReadBytes = 16 << 10;

    public ControlConnection(Socket socket, int maxFrameBytes)
    {
        _socket = socket;
        MaxFrameBytes = maxFrameBytes;
        _frameLimit = maxFrameBytes;
        RemoteEndPoint = socket.RemoteEndPoint;
        socket.NoDelay = true;
        ConfigureKeepAlive(socket);
    }

    public int MaxFrameBytes { get; }

    public EndPoint? RemoteEndPoint { get; }

    public CancellationToken Lifetime => _lifetime.Token;

    /// <summary>Frames of at most this many bytes are accepted now (smaller before the peer is authenticated).</summary>
    public int FrameLimit => _frameLimit;

    /// <summary>True once both directions are authenticated (every frame after the handshake carries a MAC).</summary>
    public bool Authenticated => _receiveMac is not null;

    /// <summary>Whether tcp data payloads carry a MAC too (both sides asked for it).</summary>
    public bool DataAuthenticated => _dataMac;

    /// <summary>True when a whole frame is already in the receive buffer (the next read will not wait for the peer).</summary>
    public bool HasBufferedFrame
    {
        get
        {
            var buffered = _rxEnd - _rxStart;
            if (buffered < 4) return false;
            var length = BinaryPrimitives.ReadUInt32LittleEndian(_rx.AsSpan(_rxStart));
            return buffered - 4 >= length;
        }
    }

    /// <summary>Whether the next <paramref name="bytes"/> raw bytes are already in the receive buffer.</summary>
    public bool HasBuffered(long bytes) => _rxEnd - _rxStart >= bytes;

    /// <summary>Lowers the frame limit, e.g. to a few KiB until the peer proved it holds the secret.</summary>
    public void LimitFrames(int bytes) => _frameLimit = Math.Min(bytes, MaxFrameBytes);

    /// <summary>Back to the configured frame limit (after the handshake).</summary>
    public void UnlimitFrames() => _frameLimit = MaxFrameBytes;

    /// <summary>
    /// From the next frame on, every frame sent is signed with <paramref name="sendKey"/> and every frame received must
    /// verify under <paramref name="receiveKey"/>, each direction counting its own sequence. Called once, by the
    /// handshake, between frames (no send or read in progress).
    /// </summary>
    public void StartAuthenticated(byte[] sendKey, byte[] receiveKey, bool dataMac)
    {
        if (_receiveMac is not null) throw new InvalidOperationException("the session is already authenticated");
        _sendMac = new FrameMac(sendKey);
        _receiveMac = new FrameMac(receiveKey);
        _dataMac = dataMac;
    }

    /// <summary>
    /// Runs the owner's receive loop on a thread of its own that reads the socket synchronously (blocking in the kernel
    /// until the peer's next bytes, as qperf does; not blocking on anything async). Where the loop awaits something that
    /// does not complete at once it continues on the thread pool, and its reads await from then on. The loop ends when
    /// the peer closes, the connection is disposed (the socket is shut down, which wakes the read) or
    /// <paramref name="stopping"/> fires (likewise).
    /// </summary>
    public Task StartReceiveThread(Func<Task> loop, string name, CancellationToken stopping)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            _receiveThread = Environment.CurrentManagedThreadId;
            var registration = stopping.CanBeCanceled ? stopping.Register(static c => ((ControlConnection)c!).Abort(), this) : default;
            Task task;
            try
            {
                task = loop();
            }
            catch (Exception ex)
            {
                task = Task.FromException(ex);
            }
            _ = task.ContinueWith(t =>
            {
                registration.Dispose();
                if (t.IsFaulted) done.TrySetException(t.Exception!.InnerExceptions);
                else if (t.IsCanceled) done.TrySetCanceled();
                else done.TrySetResult();
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    public async ValueTask SendAsync<T>(MessageType type, T message, CancellationToken ct, bool flush = true)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteFrame(type, message);
            if (flush || _txLength >= FlushThreshold) await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends an already serialized body (the handshake keeps the exact bytes for its transcript).</summary>
    public async ValueTask SendRawAsync(MessageType type, byte[] body, CancellationToken ct, bool flush = true)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteRawFrame(type, body);
            if (flush || _txLength >= FlushThreshold) await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// One data chunk: its header frame, the payload's MAC (when data is authenticated), then the payload. Small payloads
    /// are copied into the send buffer and go out with their neighbours in one system call; large ones go from the region
    /// straight to the socket. Not flushed unless <paramref name="flush"/> or enough is buffered: the batch's commit flushes.
    /// </summary>
    public async ValueTask SendDataAsync(DataChunkMessage header, ReadOnlyMemory<byte> payload, CancellationToken ct, bool flush = false)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteFrame(MessageType.DataChunk, header);
            if (_dataMac)
            {
                _sendMac!.Sign(payload.Span, Reserve(FrameMac.TagBytes));
                _txLength += FrameMac.TagBytes;
            }
            if (payload.Length <= CopyBelowBytes)
            {
                payload.Span.CopyTo(Reserve(payload.Length));
                _txLength += payload.Length;
                if (flush || _txLength >= FlushThreshold) await FlushAsync().ConfigureAwait(false);
            }
            else
            {
                // what is buffered, then the payload straight from the region to the socket: no copy of the region's bytes
                await FlushAsync().ConfigureAwait(false);
                await SendAllAsync(payload).ConfigureAwait(false);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// A run of whole small writes: its header frame, then every piece copied straight into the send buffer back to
    /// back (the one copy the MAC needs: it is computed over contiguous bytes), then one MAC over all of them when data
    /// is authenticated.
    /// </summary>
    public async ValueTask SendDataRunAsync(DataRunMessage header, IReadOnlyList<ReadOnlyMemory<byte>> pieces, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteFrame(MessageType.DataRun, header);
            var tag = _dataMac ? FrameMac.TagBytes : 0;
            var span = Reserve(header.Length + tag);
            var at = 0;
            for (var i = 0; i < pieces.Count; i++)
            {
                var piece = pieces[i].Span;
                piece.CopyTo(span[at..]);
                at += piece.Length;
            }
            if (_dataMac) _sendMac!.Sign(span[..at], span.Slice(at, tag));
            _txLength += at + tag;
            if (_txLength >= FlushThreshold) await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// A run of whole small writes taken straight from their source regions (writes <paramref name="first"/> .. +
    /// header.Count - 1 of <paramref name="writes"/>): as <see cref="SendDataRunAsync(DataRunMessage, IReadOnlyList{ReadOnlyMemory{byte}}, CancellationToken)"/>,
    /// without a Memory object per write.
    /// </summary>
    public async ValueTask SendDataRunAsync(DataRunMessage header, IReadOnlyList<Backends.PlannedWrite> writes, int first, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteFrame(MessageType.DataRun, header);
            var tag = _dataMac ? FrameMac.TagBytes : 0;
            var span = Reserve(header.Length + tag);
            var at = 0;
            for (var i = first; i < first + header.Count; i++)
            {
                var w = writes[i];
                var length = (int)w.Length;
                RegionMemory.Span(w.Source, w.SourceOffset, length).CopyTo(span[at..]);
                at += length;
            }
            if (_dataMac) _sendMac!.Sign(span[..at], span.Slice(at, tag));
            _txLength += at + tag;
            if (_txLength >= FlushThreshold) await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Reads a run's <paramref name="destination"/>.Length bytes (and their MAC) into a staging buffer and checks them
    /// before the caller places any: a run that fails authentication places nothing.
    /// </summary>
    public async ValueTask ReadRunAsync(Memory<byte> destination, CancellationToken ct)
    {
        await ReadRawAsync(destination, ct).ConfigureAwait(false);
        if (!_dataMac) return;
        await ReadRawAsync(_receiveTag, ct).ConfigureAwait(false);
        if (!_receiveMac!.Verify(destination.Span, _receiveTag))
        {
            TransportMetrics.MacFailure();
            throw new TransferException(TransferErrorCode.Unauthenticated, $"a data run from {RemoteEndPoint} failed authentication (altered on the way): nothing of it placed, session ended");
        }
    }

    /// <summary>Next frame, or null when the peer closed the link cleanly between frames.</summary>
    public async ValueTask<Frame?> ReadFrameAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                var need = Parse(out var frame);
                if (need == 0) return frame;
                EnsureRoom(need);
                if (await ReceiveMoreAsync(ct, mayBlock: true).ConfigureAwait(false) == 0)
                {
                    var held = _rxEnd - _rxStart;
                    _rxStart = _rxEnd = 0;
                    if (held == 0) return null;
                    throw new TransferException(TransferErrorCode.Protocol, $"truncated frame: the connection ended {held} bytes into a frame");
                }
            }
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            throw Lost(ex.Message, ex);
        }
    }

    /// <summary>
    /// Places the next <paramref name="length"/> raw bytes into <paramref name="region"/> at <paramref name="offset"/>
    /// (validated by the caller): first what is already buffered, then straight from the socket into the region's
    /// memory, so the bulk of a data chunk is never staged. Safe because this connection has exactly one reader.
    /// With data authentication the payload's MAC comes first and is checked once the bytes are in place: a payload
    /// altered on the way lands only inside the extent the (authenticated) header named, and fails the session.
    /// </summary>
    public async ValueTask ReadPayloadIntoAsync(IMemoryRegion region, long offset, int length, CancellationToken ct)
    {
        if (_dataMac) await ReadRawAsync(_receiveTag, ct).ConfigureAwait(false);
        await ReadRawAsync(RegionMemory.Memory(region, offset, length), ct).ConfigureAwait(false);
        if (_dataMac && !_receiveMac!.Verify(RegionMemory.Span(region, offset, length), _receiveTag))
        {
            TransportMetrics.MacFailure();
            throw new TransferException(TransferErrorCode.Unauthenticated, $"a data payload from {RemoteEndPoint} failed authentication (altered on the way): session ended");
        }
    }

    /// <summary>Reads and discards a refused chunk's payload (and its MAC), so the connection stays usable.</summary>
    public async ValueTask DrainPayloadAsync(int length, CancellationToken ct)
    {
        if (_dataMac)
        {
            await ReadRawAsync(_receiveTag, ct).ConfigureAwait(false);
            _receiveMac!.Skip();
        }
        var scratch = ArrayPool<byte>.Shared.Rent(Math.Min(length, 64 << 10));
        try
        {
            for (var done = 0; done < length;)
            {
                var n = Math.Min(scratch.Length, length - done);
                await ReadRawAsync(scratch.AsMemory(0, n), ct).ConfigureAwait(false);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async ValueTask ReadRawAsync(Memory<byte> destination, CancellationToken ct)
    {
        var length = destination.Length;
        try
        {
            var placed = 0;
            while (true)
            {
                var take = Math.Min(_rxEnd - _rxStart, length - placed);
                _rx.AsSpan(_rxStart, take).CopyTo(destination.Span[placed..]);
                _rxStart += take;
                placed += take;
                if (placed == length) return;
                int n;
                if (length - placed >= DirectReadBytes)
                {
                    // the bulk of a payload: from the socket straight to where it goes
                    n = await ReceiveIntoAsync(destination[placed..], ct).ConfigureAwait(false);
                    placed += n;
                }
                else
                {
                    EnsureRoom(length - placed);
                    n = await ReceiveMoreAsync(ct, mayBlock: true).ConfigureAwait(false);
                }
                if (n == 0) throw Lost($"the connection ended {placed} of {length} bytes into a data chunk");
                if (placed == length) return;
            }
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            throw Lost(ex.Message, ex);
        }
    }

    /// <summary>Stops sending: the peer sees end of stream after what was sent (used after a fatal error frame).</summary>
    public void ShutdownSend()
    {
        try { _socket.Shutdown(SocketShutdown.Send); } catch (Exception ex) when (IsSocketFailure(ex)) { }
    }

    /// <summary>
    /// Discards what the peer still sends, until it closes or <paramref name="limit"/> passes, so that closing with unread
    /// bytes does not reset the connection and destroy the error frame just sent. Never blocks a thread.
    /// </summary>
    public async ValueTask DrainAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            while (true)
            {
                _rxStart = _rxEnd = 0;
                if (await ReceiveMoreAsync(timeout.Token, mayBlock: false).ConfigureAwait(false) == 0) return;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || IsSocketFailure(ex))
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _lifetime.Cancel();
        Abort();
        _socket.Dispose();
        if (await _sendLock.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false))
        {
            _sendMac?.Dispose();
            var tx = _tx;
            _tx = [];
            _txLength = 0;
            if (tx.Length > 0) ArrayPool<byte>.Shared.Return(tx);
            _sendLock.Release();
        }
        // the receive side's MAC (a SafeHandle inside) and buffer are left to the collector: the reader may still be
        // unwinding. _lifetime is cancelled, not disposed: the receive loop may still read its token while it unwinds.
    }

    /// <summary>Shuts the socket both ways: a read blocked in the kernel returns, the peer sees the end.</summary>
    private void Abort()
    {
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception ex) when (IsSocketFailure(ex)) { }
    }

    /// <summary>
    /// Takes the next whole frame out of the receive buffer (0), or says how many bytes from the buffer's start the
    /// next frame needs (the length prefix is checked against the frame limit before a byte of the body is awaited).
    /// </summary>
    private int Parse(out Frame frame)
    {
        frame = default;
        var buffered = _rxEnd - _rxStart;
        if (buffered < 4) return 4;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(_rx.AsSpan(_rxStart));
        if (length == 0) throw new TransferException(TransferErrorCode.Protocol, "empty frame");
        if (length > (uint)_frameLimit)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"oversized frame: {length} bytes announced, at most {_frameLimit} accepted{(_frameLimit < MaxFrameBytes ? " before authentication" : "")}");
        }
        if (buffered - 4 < length) return 4 + (int)length;
        var body = _rx.AsSpan(_rxStart + 4, (int)length);
        var end = body.Length;
        if (_receiveMac is not null)
        {
            if (body.Length < 1 + FrameMac.TagBytes) throw new TransferException(TransferErrorCode.Protocol, $"frame of {body.Length} bytes is too short to carry its MAC");
            end = body.Length - FrameMac.TagBytes;
            if (!_receiveMac.Verify(body[..end], body[end..]))
            {
                TransportMetrics.MacFailure();
                throw new TransferException(TransferErrorCode.Unauthenticated, $"frame {_receiveMac.Sequence - 1} from {RemoteEndPoint} failed authentication (injected, altered, replayed or out of order): session ended");
            }
        }
        if (!Enum.IsDefined((MessageType)body[0]))
        {
            throw new TransferException(TransferErrorCode.Protocol, $"unknown frame type {body[0]}");
        }
        // the frame owns its body: the receive buffer is reused by the next read
        frame = new Frame((MessageType)body[0], body[1..end].ToArray());
        _rxStart += 4 + (int)length;
        return 0;
    }

    /// <summary>Makes room for <paramref name="need"/> bytes from the buffer's start (and at least one more to read).</summary>
    private void EnsureRoom(int need)
    {
        var buffered = _rxEnd - _rxStart;
        need = Math.Max(need, buffered + 1);
        if (_rx.Length - _rxStart >= need && _rxEnd < _rx.Length) return;
        if (_rx.Length >= need)
        {
            _rx.AsSpan(_rxStart, buffered).CopyTo(_rx);
        }
        else
        {
            // a frame larger than the buffer (a begin of thousands of writes): at most the frame limit, which stays
            // small until the peer is authenticated
            var larger = ArrayPool<byte>.Shared.Rent(need);
            _rx.AsSpan(_rxStart, buffered).CopyTo(larger);
            if (_rx.Length > ReceiveBufferBytes) ArrayPool<byte>.Shared.Return(_rx);
            _rx = larger;
        }
        _rxStart = 0;
        _rxEnd = buffered;
    }

    /// <summary>
    /// Reads what the peer sent next into the receive buffer (after <see cref="EnsureRoom"/>); 0 at the end of the
    /// stream. On the receive thread (and <paramref name="mayBlock"/>) a blocking read; elsewhere an awaited one.
    /// </summary>
    private ValueTask<int> ReceiveMoreAsync(CancellationToken ct, bool mayBlock)
    {
        if (mayBlock && Environment.CurrentManagedThreadId == _receiveThread)
        {
            WaitReadable(ct);
            var n = _socket.Receive(_rx, _rxEnd, _rx.Length - _rxEnd, SocketFlags.None);
            _rxEnd += n;
            return new ValueTask<int>(n);
        }
        return ReceiveMoreAwaitedAsync(ct);
    }

    private async ValueTask<int> ReceiveMoreAwaitedAsync(CancellationToken ct)
    {
        var n = await _socket.ReceiveAsync(_rx.AsMemory(_rxEnd), SocketFlags.None, ct).ConfigureAwait(false);
        _rxEnd += n;
        return n;
    }

    /// <summary>Reads straight into <paramref name="destination"/> (nothing may be buffered); 0 at the end of the stream.</summary>
    private ValueTask<int> ReceiveIntoAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (Environment.CurrentManagedThreadId == _receiveThread)
        {
            WaitReadable(ct);
            return new ValueTask<int>(_socket.Receive(destination.Span, SocketFlags.None));
        }
        return _socket.ReceiveAsync(destination, SocketFlags.None, ct);
    }

    /// <summary>
    /// Blocks the receive thread in poll(2) until the socket has bytes (or its end, or an error): the kernel wakes this
    /// thread itself, where a blocking Receive on the runtime's non-blocking socket would wait for its event thread to
    /// relay the readiness (one more thread switch per frame). The receive that follows completes at once. Wakes each
    /// quarter second to look at <paramref name="ct"/> (a handshake deadline); a disposal shuts the socket down, which
    /// makes it readable at once.
    /// </summary>
    private void WaitReadable(CancellationToken ct)
    {
        while (!_socket.Poll(250_000, SelectMode.SelectRead))
        {
            ct.ThrowIfCancellationRequested();
        }
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>Frame header, MessagePack body serialized in place, MAC: straight into the send buffer.</summary>
    private void WriteFrame<T>(MessageType type, T message)
    {
        var start = _txLength;
        try
        {
            Reserve(5);
            _txLength += 5;
            MessagePackSerializer.Serialize(new SendBufferWriter(this), message, WireFormat.Options);
            SealFrame(start, type);
        }
        catch
        {
            _txLength = start;
            throw;
        }
    }

    private void WriteRawFrame(MessageType type, ReadOnlySpan<byte> body)
    {
        var start = _txLength;
        body.CopyTo(Reserve(5 + body.Length)[5..]);
        _txLength += 5 + body.Length;
        SealFrame(start, type);
    }

    /// <summary>Fills in the length and type of the frame that starts at <paramref name="start"/>, then appends its MAC.</summary>
    private void SealFrame(int start, MessageType type)
    {
        var tag = _sendMac is null ? 0 : FrameMac.TagBytes;
        if (tag > 0) Reserve(tag);
        var bodyBytes = _txLength - start - 4;
        BinaryPrimitives.WriteUInt32LittleEndian(_tx.AsSpan(start), (uint)(bodyBytes + tag));
        _tx[start + 4] = (byte)type;
        if (tag > 0)
        {
            _sendMac!.Sign(_tx.AsSpan(start + 4, bodyBytes), _tx.AsSpan(_txLength, tag));
            _txLength += tag;
        }
    }

    /// <summary>At least <paramref name="bytes"/> free bytes after what is buffered for sending (the buffer grows from the pool).</summary>
    private Span<byte> Reserve(int bytes)
    {
        if (_tx.Length - _txLength < bytes)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_txLength + bytes, Math.Max(SendBufferBytes, _tx.Length * 2)));
            _tx.AsSpan(0, _txLength).CopyTo(larger);
            if (_tx.Length > 0) ArrayPool<byte>.Shared.Return(_tx);
            _tx = larger;
        }
        return _tx.AsSpan(_txLength, bytes);
    }

    private async ValueTask FlushAsync()
    {
        if (_txLength == 0) return;
        try
        {
            await SendAllAsync(_tx.AsMemory(0, _txLength)).ConfigureAwait(false);
        }
        finally
        {
            _txLength = 0;
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            while (bytes.Length > 0)
            {
                // completes at once while the socket's send buffer has room: no thread hop
                var n = await _socket.SendAsync(bytes, SocketFlags.None, _lifetime.Token).ConfigureAwait(false);
                if (n <= 0) throw Lost("the connection is closed");
                bytes = bytes[n..];
            }
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            throw Lost(ex.Message, ex);
        }
    }

    /// <summary>MessagePack's view of the send buffer, so frames are serialized in place (no array per frame).</summary>
    private readonly struct SendBufferWriter(ControlConnection connection) : IBufferWriter<byte>
    {
        public void Advance(int count) => connection._txLength += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            connection.Reserve(Math.Max(sizeHint, 256));
            return connection._tx.AsMemory(connection._txLength);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            connection.Reserve(Math.Max(sizeHint, 256));
            return connection._tx.AsSpan(connection._txLength);
        }
    }

    private TransferException Lost(string why, Exception? inner = null) =>
        new(TransferErrorCode.PeerLost, $"control link to {RemoteEndPoint} lost: {why}", inner);

    private bool IsSocketFailure(Exception ex) =>
        ex is IOException or SocketException or ObjectDisposedException
        || (ex is OperationCanceledException or InvalidOperationException && _lifetime.IsCancellationRequested);

    private static void ConfigureKeepAlive(Socket socket)
    {
        // A peer host that vanishes without a FIN must still fail pending writes within seconds, not hours.
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 5);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 2);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
        }
        catch (SocketException)
        {
        }
    }
}
