using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;
using PdRdma.Interop.Libc;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Daemon.Client;

/// <summary>
/// An engine's connection to its node daemon (engine API over the Unix socket). Thread-safe: calls may be
/// concurrent; replies are matched by id. Events (Arrived, LeaseEnded) appear on <see cref="Events"/> after
/// <see cref="SubscribeAsync"/>. When the daemon goes away every pending call fails with TransferException
/// (PeerLost) and <see cref="Closed"/> completes. Every call honours its CancellationToken.
/// </summary>
public sealed class DaemonClient : IAsyncDisposable
{
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _inFlight = new(MaxCallsInFlight, MaxCallsInFlight);
    private readonly ConcurrentDictionary<long, TaskCompletionSource<IEngineMessage>> _pending = new();
    private readonly Channel<IEngineMessage> _events = Channel.CreateUnbounded<IEngineMessage>();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _receiveLoop;
    private long _nextId;

    private DaemonClient(Socket socket, string path)
    {
        SocketPath = path;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream);
        _writer = PipeWriter.Create(_stream);
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>
    /// Calls one client has outstanding at most; more wait here. The daemon refuses (Overloaded) a session with more
    /// than Daemon:MaxRequestsPerEngine in work, whose default is this value.
    /// </summary>
    public const int MaxCallsInFlight = 256;

    public string SocketPath { get; }

    public ChannelReader<IEngineMessage> Events => _events.Reader;

    /// <summary>Completes when the connection to the daemon ends.</summary>
    public Task Closed => _closed.Task;

    public static async Task<DaemonClient> ConnectAsync(string socketPath, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct).ConfigureAwait(false);
            return new DaemonClient(socket, socketPath);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            var hint = e.SocketErrorCode == SocketError.AccessDenied
                ? "add this user to the daemon's group (usermod -aG pdrdma USER)"
                : "is pdrdmad running? (systemctl status pdrdmad)";
            throw new TransferException(TransferErrorCode.PeerLost, $"cannot connect to the node daemon at {socketPath}: {e.Message}; {hint}", e);
        }
    }

    /// <summary>
    /// Offers a KV pool to peers: hands the daemon <paramref name="descriptor"/> (SCM_RIGHTS; a memfd or a file this
    /// process created — the daemon opens no path), which it maps for <paramref name="length"/> bytes. The caller keeps
    /// its descriptor. Registering the same id again (after a reconnect) replaces the daemon's mapping.
    /// </summary>
    public async Task<PoolRegistered> RegisterPoolAsync(string poolId, SafeHandle descriptor, long length, KvLayout layout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return await CallAsync<PoolRegistered>(new RegisterPoolRequest { PoolId = poolId, Length = length, Layout = layout }, ct, descriptor).ConfigureAwait(false);
    }

    /// <summary>Offers a host region (its open file) as a KV pool; see <see cref="RegisterPoolAsync(string, SafeHandle, long, KvLayout, CancellationToken)"/>.</summary>
    public Task<PoolRegistered> RegisterPoolAsync(string poolId, HostRegion region, KvLayout layout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(region);
        return RegisterPoolAsync(poolId, region.FileHandle, region.Length, layout, ct);
    }

    /// <summary>
    /// Offers the file at <paramref name="path"/> as a KV pool: this process (the engine) opens its own file and hands
    /// the daemon the descriptor, so the daemon never opens a path. For callers that only have a path (the C API).
    /// </summary>
    public async Task<PoolRegistered> RegisterPoolFileAsync(string poolId, string path, long length, KvLayout layout, CancellationToken ct)
    {
        SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TransferException(TransferErrorCode.UnknownRegion, $"pool file {path} cannot be opened by this process: {e.Message}", e);
        }
        using (file) return await RegisterPoolAsync(poolId, file, length, layout, ct).ConfigureAwait(false);
    }

    public async Task<Reserved> ReserveAsync(string requestId, string poolId, int[] blocks, string peerNodeId, TimeSpan ttl, CancellationToken ct) =>
        await CallAsync<Reserved>(new ReserveRequest { RequestId = requestId, PoolId = poolId, Blocks = blocks, PeerNodeId = peerNodeId, TtlMs = (int)ttl.TotalMilliseconds }, ct).ConfigureAwait(false);

    /// <returns>True when a lease was released, false when the request held none.</returns>
    public async Task<bool> ReleaseAsync(string requestId, CancellationToken ct) =>
        (await CallAsync<OkReply>(new ReleaseRequest { RequestId = requestId }, ct).ConfigureAwait(false)).Count > 0;

    public async Task<Written> WriteAsync(WriteRequest request, CancellationToken ct) =>
        await CallAsync<Written>(request, ct).ConfigureAwait(false);

    public async Task SubscribeAsync(CancellationToken ct) =>
        await CallAsync<OkReply>(new SubscribeRequest { All = true }, ct).ConfigureAwait(false);

    public async Task<StatusReply> StatusAsync(CancellationToken ct) =>
        await CallAsync<StatusReply>(new StatusRequest(), ct).ConfigureAwait(false);

    private async Task<T> CallAsync<T>(IEngineMessage request, CancellationToken ct, SafeHandle? descriptor = null) where T : class, IEngineMessage
    {
        if (_closed.Task.IsCompleted) throw new TransferException(TransferErrorCode.PeerLost, $"the node daemon at {SocketPath} closed the connection");
        await _inFlight.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await ExchangeAsync<T>(request, ct, descriptor).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task<T> ExchangeAsync<T>(IEngineMessage request, CancellationToken ct, SafeHandle? descriptor) where T : class, IEngineMessage
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<IEngineMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            await _sendLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var frame = new EngineFrame { Id = id, Message = request };
                if (descriptor is null) await FrameCodec.WriteAsync(_writer, frame, ct).ConfigureAwait(false);
                else await SendWithDescriptorAsync(frame, descriptor, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or SocketException)
            {
                throw new TransferException(TransferErrorCode.PeerLost, $"the node daemon at {SocketPath} is gone: {e.Message}", e);
            }
            finally
            {
                _sendLock.Release();
            }
            if (_closed.Task.IsCompleted) reply.TrySetException(new TransferException(TransferErrorCode.PeerLost, $"the node daemon at {SocketPath} closed the connection"));
            var message = await reply.Task.WaitAsync(ct).ConfigureAwait(false);
            return message switch
            {
                T typed => typed,
                ErrorReply error => throw new TransferException((TransferErrorCode)error.Code, error.Message),
                _ => throw new TransferException(TransferErrorCode.Protocol, $"daemon answered {message.GetType().Name} to {request.GetType().Name}"),
            };
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Sends a frame with a descriptor attached to its first byte (one sendmsg of one byte, which the kernel takes whole
    /// or not at all), then the rest of the frame as usual. Called under the send lock, after earlier frames were flushed.
    /// </summary>
    private async Task SendWithDescriptorAsync(EngineFrame frame, SafeHandle descriptor, CancellationToken ct)
    {
        var body = MessagePack.MessagePackSerializer.Serialize(frame, FrameCodec.Options, ct);
        var bytes = new byte[4 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, body.Length);
        body.CopyTo(bytes, 4);
        const int EAgain = 11;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                UnixRights.Send(_stream.Socket.SafeHandle, bytes.AsSpan(0, 1), descriptor);
                break;
            }
            catch (IOException e) when (e.HResult == EAgain && attempt < 1000)
            {
                await Task.Delay(10, ct).ConfigureAwait(false); // the socket buffer is full: the daemon is reading slowly
            }
        }
        await _stream.Socket.SendAsync(bytes.AsMemory(1), SocketFlags.None, ct).ConfigureAwait(false);
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var frame = await FrameCodec.ReadAsync<EngineFrame>(_reader, 64 << 20, CancellationToken.None).ConfigureAwait(false);
                if (frame?.Message is null) break;
                if (frame.Id == 0) _events.Writer.TryWrite(frame.Message);
                else if (_pending.TryGetValue(frame.Id, out var reply)) reply.TrySetResult(frame.Message);
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        var lost = new TransferException(TransferErrorCode.PeerLost, $"the node daemon at {SocketPath} closed the connection" + (failure is null ? "" : $": {failure.Message}"));
        foreach (var reply in _pending.Values) reply.TrySetException(lost);
        _events.Writer.TryComplete(lost);
        _closed.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        try { _stream.Socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        await _stream.DisposeAsync().ConfigureAwait(false);
        await _receiveLoop.ConfigureAwait(false);
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _writer.CompleteAsync().ConfigureAwait(false);
    }
}
