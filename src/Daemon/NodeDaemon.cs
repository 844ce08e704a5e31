using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdRdma.Daemon.Discovery;
using PdRdma.Daemon.Engine;
using PdRdma.Daemon.Fabric;
using PdRdma.Daemon.Leases;
using PdRdma.Daemon.Loops;
using PdRdma.Daemon.Observability;
using PdRdma.Daemon.Peers;
using PdRdma.Daemon.Protocol;
using PdRdma.Daemon.Writes;
using PdRdma.Transport;

namespace PdRdma.Daemon;

/// <summary>
/// The per-node daemon, put together from its parts: the engine API (<see cref="EngineServer"/> with
/// <see cref="EngineRequestHandler"/>), the write path (<see cref="KvWriter"/>), peer links through the fabric, the
/// lease table that gates inbound writes, and its loops (notifications, lease expiry, heartbeats). On stop it refuses
/// new writes, lets in-flight ones finish for DrainSeconds, fails the rest with a clear error, then closes.
/// </summary>
public sealed partial class NodeDaemon : IHostedService, IAsyncDisposable
{
    private readonly DaemonOptions _options;
    private readonly ILogger<NodeDaemon> _log;
    private readonly ILoggerFactory _loggers;
    private readonly EngineSessions _sessions = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];
    private IKvFabric? _fabric;
    private PeerLinks? _links;
    private NodeDirectory? _directory;
    private KvWriter? _writer;
    private EngineRequestHandler? _handler;
    private PoolMappings? _pools;
    private EngineServer? _server;
    private int _stopped;

    public NodeDaemon(IOptions<DaemonOptions> options, ILoggerFactory loggers, Func<FabricOptions, IKvFabric> fabricFactory)
    {
        _options = options.Value;
        _loggers = loggers;
        _log = loggers.CreateLogger<NodeDaemon>();
        Leases = new LeaseTable();
        FabricFactory = fabricFactory;
        Metrics = new DaemonMetrics(() => Leases.Active, () => (_links?.Live ?? []).Select(l => (l.Peer.PeerNodeId, l.Peer.Backend)), Load);
    }

    private Func<FabricOptions, IKvFabric> FabricFactory { get; }

    public LeaseTable Leases { get; }

    public DaemonMetrics Metrics { get; }

    public string NodeId => _options.NodeId;

    /// <summary>The configured backend and what this node can offer (after start), e.g. "verbs (RDMA device rxe0)".</summary>
    public string BackendSummary => _fabric?.BackendSummary ?? _options.Backend;

    /// <summary>The cluster directory (etcd) when Daemon:Etcd is set; null with static configuration.</summary>
    public NodeDirectory? ClusterDirectory => _directory;

    /// <summary>Where peers reach this node (AdvertiseAddress, else the bound peer listener).</summary>
    public string PeerEndpoint => _options.AdvertiseAddress is { Length: > 0 } a ? a : _fabric?.LocalEndpoint?.ToString() ?? _options.PeerListen;

    /// <summary>The limits each engine session runs under (from the options).</summary>
    public EngineSessionLimits SessionLimits => new()
    {
        MaxConcurrentRequests = _options.MaxRequestsPerEngine,
        MaxQueuedEvents = _options.MaxQueuedEventsPerEngine,
        SendTimeout = TimeSpan.FromSeconds(_options.EngineSendTimeoutSeconds),
    };

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
        _writer = new KvWriter(NodeId, Leases, _links, () => _directory, Metrics, _loggers.CreateLogger<KvWriter>());
        // A replaced mapping stays mapped past any lease that could still send into it.
        _pools = new PoolMappings(_fabric, TimeSpan.FromSeconds(_options.LeaseTtlSeconds + 30));
        _handler = new EngineRequestHandler(NodeId, Leases, _pools, _writer, Metrics, Status, () => PeerEndpoint,
            TimeSpan.FromSeconds(_options.LeaseTtlSeconds), _loggers.CreateLogger<EngineRequestHandler>());
        _server = new EngineServer(_options.Socket, _options.SocketGroup, SessionLimits, _sessions, _handler, Leases, _pools, Metrics, _loggers.CreateLogger<EngineServer>());
        _server.Start();
        var pump = new NotificationPump(_fabric, Leases, _sessions, Metrics, _loggers.CreateLogger<NotificationPump>());
        var expiry = new LeaseExpiryLoop(Leases, _sessions, _pools, Metrics, _loggers.CreateLogger<LeaseExpiryLoop>());
        var heartbeat = new HeartbeatLoop(_links, TimeSpan.FromSeconds(_options.HeartbeatSeconds));
        _loops.Add(Task.Run(() => pump.RunAsync(_stopping.Token), CancellationToken.None));
        _loops.Add(Task.Run(() => expiry.RunAsync(_stopping.Token), CancellationToken.None));
        _loops.Add(Task.Run(() => heartbeat.RunAsync(_stopping.Token), CancellationToken.None));
        LogReady(_log, NodeId, _options.Socket, PeerEndpoint, _options.HttpListen, _fabric.BackendSummary);
    }

    private DaemonLoad Load() => new(_sessions.Count, _sessions.All.Sum(s => s.RequestsInWork), _sessions.All.Sum(s => s.QueuedEvents), _writer?.InFlight.Count ?? 0);

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

    public async Task StopAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        _stopping.Cancel();
        _server?.StopAccepting();
        var failed = 0;
        if (_writer is not null)
        {
            _writer.InFlight.Close();
            await _writer.InFlight.WaitIdleAsync(TimeSpan.FromSeconds(_options.DrainSeconds), ct).ConfigureAwait(false);
            failed = _writer.InFlight.Count;
            _writer.Abort();
        }
        LogStopping(_log, NodeId, failed);
        if (_writer is not null) await _writer.InFlight.WaitIdleAsync(TimeSpan.FromSeconds(2), ct).ConfigureAwait(false);
        if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
        // Leave the directory first: proxies stop routing here before the links close.
        if (_directory is not null) await _directory.DisposeAsync().ConfigureAwait(false);
        if (_links is not null) await _links.DisposeAsync().ConfigureAwait(false);
        if (_fabric is not null) await _fabric.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _handler?.Dispose();
        Metrics.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "pdrdmad ready: node {NodeId}, engine socket {Socket}, peers at {PeerEndpoint}, http {Http}, backend {Backend}")]
    private static partial void LogReady(ILogger logger, string nodeId, string socket, string peerEndpoint, string http, string backend);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "stopping node {NodeId}: {Failed} in-flight writes failed after the drain")]
    private static partial void LogStopping(ILogger logger, string nodeId, int failed);
}
