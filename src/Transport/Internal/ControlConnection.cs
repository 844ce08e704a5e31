using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using MessagePack;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport.Internal;

/// <summary>
/// One TCP control link: length-prefixed frames over Pipelines, one writer at a time. Reads are done by one loop
/// (the owner's). Socket failures become <see cref="TransferException"/> PeerLost; framing failures Protocol.
/// Writes run on the connection's own lifetime, never a caller's token, so a cancelled caller cannot cut a frame in half.
/// </summary>
internal sealed class ControlConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private FrameMac? _sendMac;
    private FrameMac? _receiveMac;
    private bool _dataMac;
    private int _frameLimit;
    private long _unflushed;
    private int _disposed;

    /// <summary>Payloads up to this size are copied into the send buffer (one system call for many); larger go straight out.</summary>
    private const int CopyBelowBytes = 64 << 10;

    /// <summary>Buffered bytes that trigger a flush even mid-batch (bounded memory, a steady stream).</summary>
    private const int FlushThreshold = 256 << 10;

    public ControlConnection(Socket socket, int maxFrameBytes)
    {
        _socket = socket;
        MaxFrameBytes = maxFrameBytes;
        _frameLimit = maxFrameBytes;
        RemoteEndPoint = socket.RemoteEndPoint;
        socket.NoDelay = true;
        ConfigureKeepAlive(socket);
        _stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 << 10, minimumReadSize: 4 << 10, leaveOpen: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 << 10, leaveOpen: true));
    }

    public int MaxFrameBytes { get; }

    public EndPoint? RemoteEndPoint { get; }

    public PipeReader Input { get; }

    private PipeWriter Output { get; }

    public CancellationToken Lifetime => _lifetime.Token;

    /// <summary>Frames of at most this many bytes are accepted now (smaller before the peer is authenticated).</summary>
    public int FrameLimit => _frameLimit;

    /// <summary>True once both directions are authenticated (every frame after the handshake carries a MAC).</summary>
    public bool Authenticated => _receiveMac is not null;

    /// <summary>Whether tcp data payloads carry a MAC too (both sides asked for it).</summary>
    public bool DataAuthenticated => _dataMac;

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

    public async ValueTask SendAsync<T>(MessageType type, T message, CancellationToken ct, bool flush = true) =>
        await SendRawAsync(type, MessagePackSerializer.Serialize(message, WireFormat.Options), ct, flush).ConfigureAwait(false);

    /// <summary>Sends an already serialized body (the handshake keeps the exact bytes for its transcript).</summary>
    public async ValueTask SendRawAsync(MessageType type, byte[] body, CancellationToken ct, bool flush = true)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteFrame(type, body);
            if (flush || _unflushed >= FlushThreshold) await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// One data chunk: its header frame, the payload's MAC (when data is authenticated), then the payload. Small payloads
    /// are copied into the send buffer and go out with their neighbours in one system call (a KV batch of thousands of
    /// 4 KiB blocks would otherwise cost a call per block); large ones go from the region straight to the socket. Not
    /// flushed unless <paramref name="flush"/> or enough is buffered: the batch's commit flushes.
    /// </summary>
    public async ValueTask SendDataAsync(DataChunkMessage header, ReadOnlyMemory<byte> payload, CancellationToken ct, bool flush = false)
    {
        var body = MessagePackSerializer.Serialize(header, WireFormat.Options);
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteFrame(MessageType.DataChunk, body);
            if (_dataMac)
            {
                var tag = Output.GetSpan(FrameMac.TagBytes);
                _sendMac!.Sign(payload.Span, tag[..FrameMac.TagBytes]);
                Output.Advance(FrameMac.TagBytes);
                _unflushed += FrameMac.TagBytes;
            }
            if (payload.Length <= CopyBelowBytes)
            {
                Output.Write(payload.Span);
                _unflushed += payload.Length;
                if (flush || _unflushed >= FlushThreshold) await FlushAsync().ConfigureAwait(false);
            }
            else
            {
                // StreamPipeWriter writes what is buffered, then the payload straight to the socket: no copy of the region's bytes.
                var result = await Output.WriteAsync(payload, _lifetime.Token).ConfigureAwait(false);
                _unflushed = 0;
                if (result.IsCanceled || result.IsCompleted) throw Lost("the connection is closed");
            }
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            throw Lost(ex.Message, ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// A run of whole small writes: its header frame, then every piece copied straight into the send buffer back to
    /// back (the one copy small payloads get anyway), then one MAC over all of them when data is authenticated.
    /// </summary>
    public async ValueTask SendDataRunAsync(DataRunMessage header, IReadOnlyList<ReadOnlyMemory<byte>> pieces, CancellationToken ct)
    {
        var body = MessagePackSerializer.Serialize(header, WireFormat.Options);
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteFrame(MessageType.DataRun, body);
            var tag = _dataMac ? FrameMac.TagBytes : 0;
            var span = Output.GetSpan(header.Length + tag);
            var at = 0;
            foreach (var piece in pieces)
            {
                piece.Span.CopyTo(span[at..]);
                at += piece.Length;
            }
            if (_dataMac) _sendMac!.Sign(span[..at], span.Slice(at, tag));
            Output.Advance(at + tag);
            _unflushed += at + tag;
            if (_unflushed >= FlushThreshold) await FlushAsync().ConfigureAwait(false);
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
        var tag = new byte[FrameMac.TagBytes];
        await ReadRawAsync(tag, ct).ConfigureAwait(false);
        if (!_receiveMac!.Verify(destination.Span, tag))
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
                var result = await Input.ReadAsync(ct).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (TryParse(ref buffer, out var frame))
                {
                    Input.AdvanceTo(buffer.Start);
                    return frame;
                }
                if (result.IsCompleted || result.IsCanceled)
                {
                    var held = buffer.Length;
                    Input.AdvanceTo(buffer.End);
                    if (held == 0) return null;
                    throw new TransferException(TransferErrorCode.Protocol, $"truncated frame: the connection ended {held} bytes into a frame");
                }
                Input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            throw Lost(ex.Message, ex);
        }
    }

    /// <summary>
    /// Places the next <paramref name="length"/> raw bytes into <paramref name="region"/> at <paramref name="offset"/>
    /// (validated by the caller): first what the pipe already buffered, then straight from the socket into the region's
    /// memory, so the bulk of a data chunk is never staged. Safe because this connection has exactly one reader.
    /// With data authentication the payload's MAC comes first and is checked once the bytes are in place: a payload
    /// altered on the way lands only inside the extent the (authenticated) header named, and fails the session.
    /// </summary>
    public async ValueTask ReadPayloadIntoAsync(IMemoryRegion region, long offset, int length, CancellationToken ct)
    {
        byte[]? tag = null;
        if (_dataMac)
        {
            tag = new byte[FrameMac.TagBytes];
            await ReadRawAsync(tag, ct).ConfigureAwait(false);
        }
        await ReadRawAsync(RegionMemory.Memory(region, offset, length), ct).ConfigureAwait(false);
        if (tag is not null && !_receiveMac!.Verify(RegionMemory.Span(region, offset, length), tag))
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
            await ReadRawAsync(new byte[FrameMac.TagBytes], ct).ConfigureAwait(false);
            _receiveMac!.Skip();
        }
        var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(Math.Min(length, 64 << 10));
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
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private async ValueTask ReadRawAsync(Memory<byte> destination, CancellationToken ct)
    {
        var length = destination.Length;
        try
        {
            var placed = 0;
            if (Input.TryRead(out var result))
            {
                var take = (int)Math.Min(result.Buffer.Length, length);
                result.Buffer.Slice(0, take).CopyTo(destination.Span);
                Input.AdvanceTo(result.Buffer.GetPosition(take));
                placed = take;
                if (placed < length && result.IsCompleted) throw Lost($"the connection ended {placed} of {length} bytes into a data chunk");
            }
            while (placed < length)
            {
                var n = await _stream.ReadAsync(destination[placed..], ct).ConfigureAwait(false);
                if (n == 0) throw Lost($"the connection ended {placed} of {length} bytes into a data chunk");
                placed += n;
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
    /// bytes does not reset the connection and destroy the error frame just sent.
    /// </summary>
    public async ValueTask DrainAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            while (true)
            {
                var result = await Input.ReadAsync(timeout.Token).ConfigureAwait(false);
                Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled) return;
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
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception ex) when (IsSocketFailure(ex)) { }
        await Input.CompleteAsync().ConfigureAwait(false);
        try { await Output.CompleteAsync().ConfigureAwait(false); } catch (Exception ex) when (IsSocketFailure(ex)) { }
        await _stream.DisposeAsync().ConfigureAwait(false);
        if (await _sendLock.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false))
        {
            _sendMac?.Dispose();
            _sendLock.Release();
        }
        // the receive side's MAC (a SafeHandle inside) is left to the collector: the reader may still be unwinding
        // _lifetime is cancelled, not disposed: the receive loop may still read its token while it unwinds.
    }

    private bool TryParse(ref ReadOnlySequence<byte> buffer, out Frame frame)
    {
        frame = default;
        if (buffer.Length < 4) return false;
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        if (length == 0) throw new TransferException(TransferErrorCode.Protocol, "empty frame");
        if (length > (uint)_frameLimit)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"oversized frame: {length} bytes announced, at most {_frameLimit} accepted{(_frameLimit < MaxFrameBytes ? " before authentication" : "")}");
        }
        if (buffer.Length < 4 + length) return false;
        var body = buffer.Slice(4, length).ToArray();
        buffer = buffer.Slice(4 + length);
        var end = body.Length;
        if (_receiveMac is not null)
        {
            if (body.Length < 1 + FrameMac.TagBytes) throw new TransferException(TransferErrorCode.Protocol, $"frame of {body.Length} bytes is too short to carry its MAC");
            end = body.Length - FrameMac.TagBytes;
            if (!_receiveMac.Verify(body.AsSpan(0, end), body.AsSpan(end)))
            {
                TransportMetrics.MacFailure();
                throw new TransferException(TransferErrorCode.Unauthenticated, $"frame {_receiveMac.Sequence - 1} from {RemoteEndPoint} failed authentication (injected, altered, replayed or out of order): session ended");
            }
        }
        if (!Enum.IsDefined((MessageType)body[0]))
        {
            throw new TransferException(TransferErrorCode.Protocol, $"unknown frame type {body[0]}");
        }
        frame = new Frame((MessageType)body[0], body.AsMemory(1, end - 1));
        return true;
    }

    private void WriteFrame(MessageType type, ReadOnlySpan<byte> body)
    {
        var tag = _sendMac is null ? 0 : FrameMac.TagBytes;
        var total = 4 + 1 + body.Length + tag;
        var span = Output.GetSpan(total);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)(1 + body.Length + tag));
        span[4] = (byte)type;
        body.CopyTo(span[5..]);
        _sendMac?.Sign(span.Slice(4, 1 + body.Length), span.Slice(5 + body.Length, tag));
        Output.Advance(total);
        _unflushed += total;
    }

    private async ValueTask FlushAsync()
    {
        try
        {
            _unflushed = 0;
            var result = await Output.FlushAsync(_lifetime.Token).ConfigureAwait(false);
            if (result.IsCanceled || result.IsCompleted) throw Lost("the connection is closed");
        }
        catch (Exception ex) when (IsSocketFailure(ex))
        {
            throw Lost(ex.Message, ex);
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
