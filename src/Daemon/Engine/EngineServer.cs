using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PdRdma.Daemon.Leases;
using PdRdma.Daemon.Observability;
using PdRdma.Daemon.Protocol;
using PdRdma.Interop.Libc;
using PdRdma.Transport;

namespace PdRdma.Daemon.Engine;

/// <summary>
/// The engine API's Unix socket: binds it with its mode and group set before it accepts, accepts engines, and runs
/// each session's read loop. A request starts only while its session has a free work slot (one more is refused
/// with Overloaded); each runs on its own task and its reply goes through the session's send loop. When a session
/// ends, its leases are returned. Thread-safe.
/// </summary>
public sealed partial class EngineServer : IAsyncDisposable
{
    private readonly string _path;
    private readonly string? _group;
    private readonly EngineSessionLimits _limits;
    private readonly EngineSessions _sessions;
    private readonly EngineRequestHandler _handler;
    private readonly LeaseTable _leases;
    private readonly PoolMappings _pools;
    private readonly EnginePeerPolicy _policy;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private long _nextSession;

    public EngineServer(string path, string? group, EngineSessionLimits limits, EngineSessions sessions, EngineRequestHandler handler,
        LeaseTable leases, PoolMappings pools, DaemonMetrics metrics, ILogger log)
    {
        _pools = pools;
        _policy = new EnginePeerPolicy(group, UserIdentity.EffectiveUid);
        _path = path;
        _group = group;
        _limits = limits;
        _sessions = sessions;
        _handler = handler;
        _leases = leases;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>Binds the socket (refusing when another daemon serves it) and starts accepting.</summary>
    public void Start()
    {
        _listener = Bind();
        _acceptLoop = Task.Run(AcceptAsync, CancellationToken.None);
    }

    private Socket Bind()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("pdrdmad runs on Linux");
        var directory = Path.GetDirectoryName(_path)!;
        int? group = string.IsNullOrEmpty(_group) ? null : UnixGroups.FindGroupId(_group);
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
            if (group is { } g) FileOwnership.SetGroup(directory, g);
        }
        if (File.Exists(_path))
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(_path));
                throw new InvalidOperationException($"another daemon is serving {_path}: stop it or set Daemon:Socket to another path");
            }
            catch (SocketException)
            {
                File.Delete(_path); // stale socket of a daemon that died
            }
        }
        // Bind inside a private folder (0700), set the socket's mode and group there, then move it into place: no
        // moment exists where the socket is reachable with a wider mode than configured.
        var staging = Path.Combine(directory, "." + System.Security.Cryptography.RandomNumberGenerator.GetHexString(6, lowercase: true));
        if (System.Text.Encoding.UTF8.GetByteCount(staging) + 2 > 107)
            throw new InvalidOperationException($"Daemon:Socket's folder {directory} is too long to bind in (Unix socket paths are under 108 bytes): choose a shorter folder");
        Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            var staged = Path.Combine(staging, "s");
            listener.Bind(new UnixDomainSocketEndPoint(staged));
            // Only the owner and the service group may connect: engines run as members of the group.
            File.SetUnixFileMode(staged, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            if (group is { } gid) FileOwnership.SetGroup(staged, gid);
            File.Move(staged, _path, overwrite: false);
            listener.Listen(64);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        finally
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { }
        }
        return listener;
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                LogEngineError(_log, 0, e.Message);
                continue;
            }
            if (Refusal(socket) is { } refusal)
            {
                _metrics.Refused("peer_credentials");
                LogEngineRefused(_log, refusal);
                _ = RefuseAsync(socket, refusal);
                continue;
            }
            var session = new EngineSession(Interlocked.Increment(ref _nextSession), socket, _limits, _metrics);
            _sessions.Add(session);
            _ = Task.Run(() => ServeAsync(session), CancellationToken.None);
        }
    }

    private string? Refusal(Socket socket)
    {
        try
        {
            return _policy.Refusal(PeerCredentials.Of(socket));
        }
        catch (SocketException e)
        {
            return $"the kernel gave no credentials for the connection: {e.Message}";
        }
    }

    /// <summary>Tells a refused engine why (one error frame, bounded), then closes its connection.</summary>
    private static async Task RefuseAsync(Socket socket, string reason)
    {
        using (socket)
        {
            try
            {
                using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var body = MessagePack.MessagePackSerializer.Serialize(new EngineFrame { Id = 0, Message = new ErrorReply { Code = (int)TransferErrorCode.AccessDenied, Message = reason } }, FrameCodec.Options);
                var frame = new byte[4 + body.Length];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length);
                body.CopyTo(frame, 4);
                await socket.SendAsync(frame, SocketFlags.None, bounded.Token).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Send);
                // Closing with the engine's request unread would reset the connection before it reads why: read (and
                // drop) up to 64 KiB until it closes, within the bound.
                var sink = new byte[4096];
                for (var total = 0; total < 64 << 10;)
                {
                    var n = await socket.ReceiveAsync(sink, SocketFlags.None, bounded.Token).ConfigureAwait(false);
                    if (n == 0) break;
                    total += n;
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task ServeAsync(EngineSession session)
    {
        LogEngineConnected(_log, session.Id);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, session.Closing);
        try
        {
            while (true)
            {
                var frame = await session.ReadAsync(stop.Token).ConfigureAwait(false);
                if (frame is null) break;
                if (!session.TryStartRequest())
                {
                    if (frame.Message is RegisterPoolRequest) session.TakeDescriptor()?.Dispose();
                    _metrics.Refused("requests_per_engine");
                    var refusal = _handler.Refuse(new TransferException(TransferErrorCode.Overloaded,
                        $"engine session {session.Id} already has {_limits.MaxConcurrentRequests} requests in work: wait for replies before sending more"));
                    // Waiting for the refusal to be written keeps an engine that floods without reading from growing the queue.
                    await session.SendAsync(frame.Id, refusal).ConfigureAwait(false);
                    continue;
                }
                // A pool's descriptor is claimed here, in frame order, not by the request's task.
                var descriptor = frame.Message is RegisterPoolRequest ? session.TakeDescriptor() : null;
                _ = Task.Run(async () => await session.ReplyAndFinishAsync(frame.Id, await _handler.HandleAsync(session, frame, descriptor).ConfigureAwait(false)).ConfigureAwait(false), CancellationToken.None);
            }
        }
        catch (Exception e) when (e is TransferException or IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            if (!_stopping.IsCancellationRequested && !session.Closing.IsCancellationRequested) LogEngineError(_log, session.Id, e.Message);
        }
        finally
        {
            if (session.Closed.IsCompleted && !_stopping.IsCancellationRequested) LogEngineError(_log, session.Id, await session.Closed.ConfigureAwait(false));
            _sessions.Remove(session);
            var dropped = _leases.DropOwner(session.Id);
            _pools.DropOwner(session.Id);
            LogEngineGone(_log, session.Id, dropped.Count);
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops accepting (the socket file is removed at dispose); sessions stay open until <see cref="DisposeAsync"/>.</summary>
    public void StopAccepting()
    {
        _stopping.Cancel();
        _listener?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        StopAccepting();
        foreach (var session in _sessions.All) await session.DisposeAsync().ConfigureAwait(false);
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_listener is not null)
        {
            try { File.Delete(_path); } catch (IOException) { }
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "engine session {Session} connected")]
    private static partial void LogEngineConnected(ILogger logger, long session);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "engine session {Session} closed: {Leases} leases returned")]
    private static partial void LogEngineGone(ILogger logger, long session, int leases);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "engine connection refused: {Reason}")]
    private static partial void LogEngineRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "engine session {Session}: {Reason}")]
    private static partial void LogEngineError(ILogger logger, long session, string reason);
}
