using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
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

    public async Task<PoolRegistered> RegisterPoolAsync(string poolId, string path, long length, KvLayout layout, CancellationToken ct) =>
        await CallAsync<PoolRegistered>(new RegisterPoolRequest { PoolId = poolId, Path = path, Length = length, Layout = layout }, ct).ConfigureAwait(false);

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

    private async Task<T> CallAsync<T>(IEngineMessage request, CancellationToken ct) where T : class, IEngineMessage
    {
        if (_closed.Task.IsCompleted) throw new TransferException(TransferErrorCode.PeerLost, $"the node daemon at {SocketPath} closed the connection");
        await _inFlight.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return await ExchangeAsync<T>(request, ct).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task<T> ExchangeAsync<T>(IEngineMessage request, CancellationToken ct) where T : class, IEngineMessage
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<IEngineMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            await _sendLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await FrameCodec.WriteAsync(_writer, new EngineFrame { Id = id, Message = request }, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
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
