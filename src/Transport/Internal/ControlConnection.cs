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
    private int _disposed;

    public ControlConnection(Socket socket, int maxFrameBytes)
    {
        _socket = socket;
        MaxFrameBytes = maxFrameBytes;
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

    public async ValueTask SendAsync<T>(MessageType type, T message, CancellationToken ct)
    {
        var body = MessagePackSerializer.Serialize(message, WireFormat.Options);
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteHeader(type, body.Length);
            Output.Write(body);
            await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async ValueTask SendDataAsync(DataChunkMessage header, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var body = MessagePackSerializer.Serialize(header, WireFormat.Options);
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            WriteHeader(MessageType.DataChunk, body.Length);
            Output.Write(body);
            // StreamPipeWriter writes what is buffered, then the payload straight to the socket: no copy of the region's bytes.
            var result = await Output.WriteAsync(payload, _lifetime.Token).ConfigureAwait(false);
            if (result.IsCanceled || result.IsCompleted) throw Lost("the connection is closed");
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
    /// </summary>
    public async ValueTask ReadPayloadIntoAsync(IMemoryRegion region, long offset, int length, CancellationToken ct)
    {
        try
        {
            var placed = 0;
            if (Input.TryRead(out var result))
            {
                var take = (int)Math.Min(result.Buffer.Length, length);
                result.Buffer.Slice(0, take).CopyTo(RegionMemory.Span(region, offset, take));
                Input.AdvanceTo(result.Buffer.GetPosition(take));
                placed = take;
                if (placed < length && result.IsCompleted) throw Lost($"the connection ended {placed} of {length} bytes into a data chunk");
            }
            while (placed < length)
            {
                var n = await _stream.ReadAsync(RegionMemory.Memory(region, offset + placed, length - placed), ct).ConfigureAwait(false);
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
        if (length > (uint)MaxFrameBytes)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"oversized frame: {length} bytes announced, at most {MaxFrameBytes} accepted");
        }
        if (buffer.Length < 4 + length) return false;
        var body = buffer.Slice(4, length).ToArray();
        buffer = buffer.Slice(4 + length);
        if (!Enum.IsDefined((MessageType)body[0]))
        {
            throw new TransferException(TransferErrorCode.Protocol, $"unknown frame type {body[0]}");
        }
        frame = new Frame((MessageType)body[0], body.AsMemory(1));
        return true;
    }

    private void WriteHeader(MessageType type, int bodyLength)
    {
        var span = Output.GetSpan(WireFormat.FrameHeaderBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)(bodyLength + 1));
        span[4] = (byte)type;
        Output.Advance(WireFormat.FrameHeaderBytes);
    }

    private async ValueTask FlushAsync()
    {
        try
        {
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
