using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MessagePack;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdRdma.Daemon.Discovery;
using PdRdma.Daemon.Engine;
using PdRdma.Daemon.Fabric;
using PdRdma.Daemon.Leases;
using PdRdma.Daemon.Observability;
using PdRdma.Daemon.Peers;
using PdRdma.Daemon.Protocol;
using PdRdma.Interop.Libc;
using PdRdma.Transport;

namespace PdRdma.Daemon;

/// <summary>
/// The per-node daemon: serves the engine API on a Unix socket, links to peer daemons through the fabric,
/// grants leases and enforces them on inbound writes, and reports health and metrics. On stop it refuses new
/// writes, lets in-flight ones finish for DrainSeconds, fails the rest with a clear error, then closes.
/// </summary>
public sealed partial class NodeDaemon : IHostedService, IAsyncDisposable
{
    private readonly DaemonOptions _options;
    private readonly ILogger<NodeDaemon> _log;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentDictionary<long, EngineSession> _sessions = new();
    private readonly ConcurrentDictionary<string, IMemoryRegion> _regions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abortWrites = new();
    private readonly List<Task> _loops = [];
    private IKvFabric? _fabric;
    private PeerLinks? _links;
    private NodeDirectory? _directory;
    private Socket? _engineListener;
    private long _nextSession;
    private int _inFlightWrites;

    public NodeDaemon(IOptions<DaemonOptions> options, ILoggerFactory loggers, Func<FabricOptions, IKvFabric> fabricFactory)
    {
        _options = options.Value;
        _loggers = loggers;
        _log = loggers.CreateLogger<NodeDaemon>();
        Leases = new LeaseTable();
        FabricFactory = fabricFactory;
        Metrics = new DaemonMetrics(() => Leases.Active, () => (_links?.Live ?? []).Select(l => (l.Peer.PeerNodeId, l.Peer.Backend)));
    }

    private Func<FabricOptions, IKvFabric> FabricFactory { get; }

    public LeaseTable Leases { get; }

    public DaemonMetrics Metrics { get; }

    public string NodeId => _options.NodeId;

    /// <summary>The configured backend and what this node can offer (after start), e.g. "verbs (RDMA device rxe0)".</summary>
    public string BackendSummary => _fabric?.BackendSummary ?? _options.Backend;

    /// <summary>Where peers reach this node (AdvertiseAddress, else the bound peer listener).</summary>
    /// <summary>The cluster directory (etcd) when Daemon:Etcd is set; null with static configuration.</summary>
    public NodeDirectory? ClusterDirectory => _directory;

    public string PeerEndpoint => _options.AdvertiseAddress is { Length: > 0 } a ? a : _fabric?.LocalEndpoint?.ToString() ?? _options.PeerListen;

    public async Task StartAsync(CancellationToken ct)
    {
        _fabric = FabricFactory(new FabricOptions
        {
            NodeId = _options.NodeId,
            Listen = IPEndPoint.Parse(_options.PeerListen),
            ClusterSecret = DaemonOptionsValidator.LoadSecret(_options),
            Backend = _options.Backend,
            AllowFallback = _options.AllowFallback,
            ConnectTimeout = TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds),
            HandshakeTimeout = TimeSpan.FromSeconds(_options.HandshakeTimeoutSeconds),
            Gate = Leases,
            LoggerFactory = _loggers,
        });
        await _fabric.StartAsync(ct).ConfigureAwait(false);
        _links = new PeerLinks(_fabric, _log);
        if (_options.Etcd.Enabled)
        {
            try
            {
                _directory = await NodeDirectory.StartAsync(_options.Etcd, NodeId, SelfRecord, _log, ct).ConfigureAwait(false);
            }
            catch
            {
                await _fabric.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        _engineListener = BindEngineSocket();
        _loops.Add(Task.Run(AcceptEnginesAsync, CancellationToken.None));
        _loops.Add(Task.Run(PumpNotificationsAsync, CancellationToken.None));
        _loops.Add(Task.Run(ExpireLeasesAsync, CancellationToken.None));
        _loops.Add(Task.Run(HeartbeatAsync, CancellationToken.None));
        LogReady(_log, NodeId, _options.Socket, PeerEndpoint, _options.HttpListen, _fabric.BackendSummary);
    }

    private NodeRecord SelfRecord()
    {
        var endpoint = PeerEndpoint;
        // Every backend is set up over the same authenticated control connection; the record names them so a
        // peer (or an operator) sees what this node offers.
        var endpoints = new Dictionary<string, string>(StringComparer.Ordinal) { ["tcp"] = endpoint, ["shm"] = endpoint };
        if (BackendSummary.Contains("verbs", StringComparison.Ordinal) && !BackendSummary.Contains("no RDMA", StringComparison.OrdinalIgnoreCase)) endpoints["verbs"] = endpoint;
        return new NodeRecord
        {
            NodeId = NodeId,
            HostId = HostIdentity.Current,
            Endpoints = endpoints,
            Backend = BackendSummary,
            Pools = Leases.Usage().Select(p => new NodeRecord.PoolCapacity
            {
                Id = p.PoolId, LayoutHash = p.Layout.CompatibilityHash().ToString("x16", System.Globalization.CultureInfo.InvariantCulture), Blocks = p.Layout.Blocks, Leased = p.LeasedBlocks,
            }).ToArray(),
        };
    }

    /// <summary>
    /// Where to send a write: the target's etcd record when there is a directory and it lists the node (authoritative),
    /// else the endpoint the request names (a record can be briefly absent while a node re-registers; the peer is
    /// authenticated at connect either way), else a typed error.
    /// </summary>
    private string ResolveTarget(WriteRequest request)
    {
        if (_directory is null || string.IsNullOrEmpty(request.TargetNodeId))
            return request.TargetEndpoint.Length > 0 ? request.TargetEndpoint
                : throw new TransferException(TransferErrorCode.Protocol, $"write of request {request.RequestId} names no target endpoint and this daemon has no directory (Daemon:Etcd) to resolve node '{request.TargetNodeId}'");
        if (_directory.Find(request.TargetNodeId) is { } record && record.EndpointFor("tcp") is { } endpoint) return endpoint;
        if (request.TargetEndpoint.Length > 0) return request.TargetEndpoint;
        throw new TransferException(TransferErrorCode.PeerLost, $"node '{request.TargetNodeId}' is not registered in etcd at {_directory.Endpoints} (dead, cut off or never started)");
    }

    private Socket BindEngineSocket()
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("pdrdmad runs on Linux");
        var path = _options.Socket;
        var directory = Path.GetDirectoryName(path)!;
        int? group = string.IsNullOrEmpty(_options.SocketGroup) ? null : UnixGroups.FindGroupId(_options.SocketGroup);
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
            if (group is { } g) FileOwnership.SetGroup(directory, g);
        }
        if (File.Exists(path))
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new InvalidOperationException($"another daemon is serving {path}: stop it or set Daemon:Socket to another path");
            }
            catch (SocketException)
            {
                File.Delete(path); // stale socket of a daemon that died
            }
        }
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        // Only the owner and the service group may connect: engines run as members of the group.
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        if (group is { } gid) FileOwnership.SetGroup(path, gid);
        listener.Listen(64);
        return listener;
    }

    private async Task AcceptEnginesAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _engineListener!.AcceptAsync(_stopping.Token).ConfigureAwait(false);
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
            var session = new EngineSession(Interlocked.Increment(ref _nextSession), socket);
            _sessions[session.Id] = session;
            _ = Task.Run(() => ServeEngineAsync(session), CancellationToken.None);
        }
    }

    private async Task ServeEngineAsync(EngineSession session)
    {
        LogEngineConnected(_log, session.Id);
        try
        {
            while (true)
            {
                var frame = await FrameCodec.ReadAsync<EngineFrame>(session.Reader, 1 << 20, _stopping.Token).ConfigureAwait(false);
                if (frame is null) break;
                _ = Task.Run(() => DispatchAsync(session, frame), CancellationToken.None);
            }
        }
        catch (Exception e) when (e is TransferException or IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            if (!_stopping.IsCancellationRequested) LogEngineError(_log, session.Id, e.Message);
        }
        finally
        {
            _sessions.TryRemove(session.Id, out _);
            var dropped = Leases.DropOwner(session.Id);
            LogEngineGone(_log, session.Id, dropped.Count);
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task DispatchAsync(EngineSession session, EngineFrame frame)
    {
        IEngineMessage reply;
        try
        {
            if (frame.Version != EngineFrame.CurrentVersion)
                throw new TransferException(TransferErrorCode.VersionMismatch, $"engine speaks engine-API v{frame.Version}, daemon v{EngineFrame.CurrentVersion}: use the same PdRdma release on both");
            reply = frame.Message switch
            {
                RegisterPoolRequest r => RegisterPool(session, r),
                ReserveRequest r => Reserve(session, r),
                ReleaseRequest r => new OkReply { Count = Leases.Release(r.RequestId, session.Id) ? 1 : 0 },
                WriteRequest r => await WriteAsync(session, r).ConfigureAwait(false),
                SubscribeRequest => Subscribe(session),
                StatusRequest => Status(),
                _ => throw new TransferException(TransferErrorCode.Protocol, $"unexpected message {frame.Message?.GetType().Name ?? "null"}"),
            };
        }
        catch (TransferException e)
        {
            Metrics.Error(e.Code.ToString());
            reply = new ErrorReply { Code = (int)e.Code, Message = e.Detail };
        }
        catch (Exception e)
        {
            // Every request gets an answer: an engine must never wait on a reply that will not come.
            Metrics.Error(e.GetType().Name);
            LogEngineError(_log, session.Id, $"{frame.Message?.GetType().Name}: {e}");
            reply = new ErrorReply { Code = (int)TransferErrorCode.Protocol, Message = $"{e.GetType().Name}: {e.Message}" };
        }
        try
        {
            await session.SendAsync(frame.Id, reply, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or TransferException)
        {
            // the engine went away; its session cleanup releases what it held
        }
    }

    private PoolRegistered RegisterPool(EngineSession session, RegisterPoolRequest request)
    {
        var layout = request.Layout ?? throw new TransferException(TransferErrorCode.Protocol, "RegisterPool needs the pool's KvLayout");
        if (request.Length < layout.TotalBytes)
            throw new TransferException(TransferErrorCode.OutOfBounds, $"pool '{request.PoolId}' is {request.Length} bytes but its layout needs {layout.TotalBytes}");
        if (string.IsNullOrWhiteSpace(request.PoolId))
            throw new TransferException(TransferErrorCode.Protocol, "RegisterPool needs a pool id");
        Leases.RegisterPool(request.PoolId, layout, session.Id);
        if (!_regions.ContainsKey(request.PoolId))
        {
            var region = HostRegion.Open(request.PoolId, request.Path, request.Length);
            _regions[request.PoolId] = region;
            _fabric!.RegisterRegion(region);
        }
        LogPoolRegistered(_log, request.PoolId, request.Path, request.Length, session.Id);
        return new PoolRegistered { NodeId = NodeId, PeerEndpoint = PeerEndpoint };
    }

    private Reserved Reserve(EngineSession session, ReserveRequest request)
    {
        var ttl = request.TtlMs > 0 ? TimeSpan.FromMilliseconds(request.TtlMs) : TimeSpan.FromSeconds(_options.LeaseTtlSeconds);
        var lease = Leases.Grant(request.RequestId, request.PoolId, request.Blocks, request.PeerNodeId, ttl, session.Id);
        return new Reserved { LeaseId = lease.LeaseId, ExpiresUnixMs = lease.ExpiresAt.ToUnixTimeMilliseconds() };
    }

    private OkReply Subscribe(EngineSession session)
    {
        session.Subscribed = true;
        return new OkReply();
    }

    public StatusReply Status() => new()
    {
        NodeId = NodeId,
        DaemonVersion = EngineFrame.CurrentVersion,
        PeerEndpoint = PeerEndpoint,
        Pools = Leases.Pools.ToArray(),
        LeasesActive = Leases.Active,
        LeasesExpired = Leases.ExpiredTotal,
        Peers = _links?.Snapshot() ?? [],
    };

    private async Task<IEngineMessage> WriteAsync(EngineSession session, WriteRequest request)
    {
        if (_stopping.IsCancellationRequested)
            throw new TransferException(TransferErrorCode.PeerLost, $"daemon {NodeId} is shutting down: write of request {request.RequestId} refused");
        Interlocked.Increment(ref _inFlightWrites);
        try
        {
            FabricBatch batch;
            if (request.Final)
            {
                var notice = new PeerNotice { Kind = PeerNoticeKind.Arrived, RequestId = request.RequestId, Bytes = request.TotalBytes };
                batch = new FabricBatch([], MessagePackSerializer.Serialize(notice, FrameCodec.Options));
            }
            else
            {
                if (!Leases.TryGetPool(request.SourcePoolId, out var source))
                    throw new TransferException(TransferErrorCode.UnknownRegion, $"source pool '{request.SourcePoolId}' is not registered with daemon {NodeId}");
                var target = request.TargetLayout ?? throw new TransferException(TransferErrorCode.Protocol, "Write needs the target pool's KvLayout");
                batch = new FabricBatch(KvWritePlan.Build(request.SourcePoolId, source, request.TargetPoolId, target, request.Layers, request.SourceBlocks, request.TargetBlocks), Grant: request.RequestId);
            }
            var targetEndpoint = ResolveTarget(request);
            var clock = Stopwatch.StartNew();
            var peer = await _links!.GetAsync(targetEndpoint, _abortWrites.Token).ConfigureAwait(false);
            try
            {
                try
                {
                    await peer.WriteAsync(batch, _abortWrites.Token).ConfigureAwait(false);
                }
                catch (TransferException e) when (e.Code == TransferErrorCode.UnknownRegion)
                {
                    // The target's pool was registered (or re-registered after an engine restart) after this link
                    // opened: reconnect once to learn its regions.
                    await _links.DropAsync(targetEndpoint, peer, e.Message).ConfigureAwait(false);
                    peer = await _links.GetAsync(targetEndpoint, _abortWrites.Token).ConfigureAwait(false);
                    await peer.WriteAsync(batch, _abortWrites.Token).ConfigureAwait(false);
                }
            }
            catch (TransferException e) when (e.Code is TransferErrorCode.PeerLost or TransferErrorCode.Timeout or TransferErrorCode.Protocol)
            {
                await _links.DropAsync(targetEndpoint, peer, e.Message).ConfigureAwait(false);
                throw;
            }
            catch (OperationCanceledException)
            {
                throw new TransferException(TransferErrorCode.PeerLost, $"daemon {NodeId} shut down before the write of request {request.RequestId} to {peer.PeerNodeId} completed");
            }
            var elapsed = clock.Elapsed;
            LogWritten(_log, request.RequestId, batch.Bytes, peer.PeerNodeId, peer.Backend, elapsed.TotalMilliseconds);
            Metrics.Written(peer.PeerNodeId, peer.Backend, batch.Bytes, elapsed);
            _links.CountBytes(targetEndpoint, batch.Bytes);
            return new Written { Bytes = batch.Bytes, Batches = 1, Backend = peer.Backend, PeerNodeId = peer.PeerNodeId, Micros = elapsed.TotalMicroseconds };
        }
        finally
        {
            Interlocked.Decrement(ref _inFlightWrites);
        }
    }

    private async Task PumpNotificationsAsync()
    {
        try
        {
            await foreach (var note in _fabric!.Notifications.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                PeerNotice notice;
                try
                {
                    notice = MessagePackSerializer.Deserialize<PeerNotice>(note.Payload, FrameCodec.Options);
                }
                catch (MessagePackSerializationException e)
                {
                    LogBadNotice(_log, note.PeerNodeId, e.Message);
                    Metrics.Error("BadNotice");
                    continue;
                }
                if (notice.Kind != PeerNoticeKind.Arrived) continue;
                Metrics.Received(note.PeerNodeId, notice.Bytes);
                var lease = Leases.MarkArrived(notice.RequestId, note.PeerNodeId);
                if (lease is null)
                {
                    LogStrayArrival(_log, notice.RequestId, note.PeerNodeId);
                    continue;
                }
                if (_sessions.TryGetValue(lease.OwnerSession, out var session) && session.Subscribed)
                {
                    await session.TryPushAsync(new Arrived { RequestId = notice.RequestId, PeerNodeId = note.PeerNodeId, Bytes = notice.Bytes }).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ExpireLeasesAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                var expired = Leases.ExpireDue();
                if (expired.Count == 0) continue;
                Metrics.LeasesExpired(expired.Count);
                foreach (var lease in expired)
                {
                    LogLeaseExpired(_log, lease.RequestId, lease.PeerNodeId);
                    if (_sessions.TryGetValue(lease.OwnerSession, out var session) && session.Subscribed)
                        await session.TryPushAsync(new LeaseEnded { RequestId = lease.RequestId, Reason = $"lease expired: no KV from {lease.PeerNodeId} in time" }).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task HeartbeatAsync()
    {
        var period = TimeSpan.FromSeconds(_options.HeartbeatSeconds);
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
                await _links!.HeartbeatAsync(period * 2, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_stopping.IsCancellationRequested) return;
        _stopping.Cancel();
        _engineListener?.Dispose();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(_options.DrainSeconds);
        while (Volatile.Read(ref _inFlightWrites) > 0 && DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        var failed = Volatile.Read(ref _inFlightWrites);
        _abortWrites.Cancel();
        LogStopping(_log, NodeId, failed);
        while (Volatile.Read(ref _inFlightWrites) > 0 && !ct.IsCancellationRequested)
            await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
        foreach (var session in _sessions.Values) await session.DisposeAsync().ConfigureAwait(false);
        // Leave the directory first: proxies stop routing here before the links close.
        if (_directory is not null) await _directory.DisposeAsync().ConfigureAwait(false);
        if (_links is not null) await _links.DisposeAsync().ConfigureAwait(false);
        if (_fabric is not null) await _fabric.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try { File.Delete(_options.Socket); } catch (IOException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        foreach (var region in _regions.Values) region.Dispose();
        Metrics.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "pdrdmad ready: node {NodeId}, engine socket {Socket}, peers at {PeerEndpoint}, http {Http}, backend {Backend}")]
    private static partial void LogReady(ILogger logger, string nodeId, string socket, string peerEndpoint, string http, string backend);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "stopping node {NodeId}: {Failed} in-flight writes failed after the drain")]
    private static partial void LogStopping(ILogger logger, string nodeId, int failed);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "engine session {Session} connected")]
    private static partial void LogEngineConnected(ILogger logger, long session);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "engine session {Session} closed: {Leases} leases returned")]
    private static partial void LogEngineGone(ILogger logger, long session, int leases);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "engine session {Session}: {Reason}")]
    private static partial void LogEngineError(ILogger logger, long session, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "pool {PoolId} registered: {Path}, {Length} bytes (session {Session})")]
    private static partial void LogPoolRegistered(ILogger logger, string poolId, string path, long length, long session);

    [LoggerMessage(EventId = 14, Level = LogLevel.Debug, Message = "request {RequestId}: {Bytes} bytes to {PeerNodeId} over {Backend} in {Ms} ms")]
    private static partial void LogWritten(ILogger logger, string requestId, long bytes, string peerNodeId, string backend, double ms);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "lease of request {RequestId} for peer {PeerNodeId} expired before its KV arrived")]
    private static partial void LogLeaseExpired(ILogger logger, string requestId, string peerNodeId);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "arrival notice for request {RequestId} from {PeerNodeId} matches no active lease (expired or released)")]
    private static partial void LogStrayArrival(ILogger logger, string requestId, string peerNodeId);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "undecodable notice from {PeerNodeId}: {Reason}")]
    private static partial void LogBadNotice(ILogger logger, string peerNodeId, string reason);
}
