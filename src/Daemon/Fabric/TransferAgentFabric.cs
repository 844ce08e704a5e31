using System.Net;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Transport;
using PdRdma.Transport.Backends.SharedMemory;
using PdRdma.Transport.Backends.Tcp;
using PdRdma.Transport.Backends.Verbs;

namespace PdRdma.Daemon.Fabric;

/// <summary>
/// <see cref="IKvFabric"/> over src/Transport's <see cref="TransferAgent"/>: mutual challenge–response from the
/// cluster secret, backend per peer (shm on one host, verbs where both nodes have an RDMA device, tcp otherwise;
/// or the one configured), the lease gate as the agent's write authorizer. Thread-safe.
/// </summary>
public sealed partial class TransferAgentFabric : IKvFabric
{
    private readonly TransferAgent _agent;
    private readonly VerbsBackend _verbs;
    private readonly BackendChoice _choice;
    private readonly bool _allowFallback;
    private readonly ILogger _log;
    private readonly Channel<FabricNotification> _notifications = Channel.CreateUnbounded<FabricNotification>();
    private Task? _pump;

    public TransferAgentFabric(FabricOptions options)
    {
        NodeId = options.NodeId;
        _choice = ParseBackend(options.Backend);
        _allowFallback = options.AllowFallback;
        var loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        _log = loggers.CreateLogger<TransferAgentFabric>();
        _verbs = new VerbsBackend(logger: loggers.CreateLogger("PdRdma.Transport.Verbs"));
        _agent = new TransferAgent(new TransferAgentOptions
        {
            NodeId = options.NodeId,
            Listen = options.Listen,
            Backend = _choice,
            AllowFallback = options.AllowFallback,
            ClusterSecret = options.ClusterSecret,
            Authorizer = options.Gate is null ? null : new GateAuthorizer(options.Gate),
            LoggerFactory = options.LoggerFactory,
            ConnectTimeout = options.ConnectTimeout,
            HandshakeTimeout = options.HandshakeTimeout,
            // The default list, built here so that this node's verbs device can be checked (and named) at start. shm
            // peers map a pool this daemon holds by descriptor through /proc/PID/fd/N, same user only (SharedPathPolicy).
            Backends = [new SharedMemoryBackend(), _verbs, new TcpBackend()],
        });
        BackendSummary = options.Backend;
    }

    public string NodeId { get; }

    public IPEndPoint? LocalEndpoint => _agent.LocalEndpoint;

    public string BackendSummary { get; private set; }

    public ChannelReader<FabricNotification> Notifications => _notifications.Reader;

    public static BackendChoice ParseBackend(string backend) => backend switch
    {
        "auto" => BackendChoice.Auto,
        "shm" => BackendChoice.Shm,
        "tcp" => BackendChoice.Tcp,
        "verbs" => BackendChoice.Verbs,
        _ => throw new ArgumentException($"backend '{backend}' is unknown: auto, shm, tcp or verbs"),
    };

    public void RegisterRegion(IMemoryRegion region) => _agent.RegisterRegion(region);

    public IMemoryRegion? DeregisterRegion(string regionId) => _agent.DeregisterRegion(regionId);

    public async Task StartAsync(CancellationToken ct)
    {
        CheckBackend();
        await _agent.StartAsync(ct).ConfigureAwait(false);
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var note in _agent.Notifications.ReadAllAsync().ConfigureAwait(false))
                    _notifications.Writer.TryWrite(new FabricNotification(note.PeerNodeId, note.Payload, note.Bytes));
            }
            finally
            {
                _notifications.Writer.TryComplete();
            }
        }, CancellationToken.None);
    }

    /// <summary>A node told to use verbs without a usable device fails at start with the reason and the fix, or, where allowed, says that it falls back.</summary>
    private void CheckBackend()
    {
        if (_choice is BackendChoice.Shm or BackendChoice.Tcp) return;
        var usable = _verbs.IsAvailable(out var reason);
        if (usable)
        {
            BackendSummary = $"{(_choice == BackendChoice.Verbs ? "verbs" : "auto")} (RDMA device {_verbs.DeviceName})";
            return;
        }
        if (_choice == BackendChoice.Auto)
        {
            BackendSummary = "auto (no RDMA device here: shm on one host, tcp otherwise)";
            return;
        }
        if (!_allowFallback)
        {
            throw new TransferException(TransferErrorCode.DeviceUnavailable,
                $"Daemon:Backend is verbs, but {reason} — or set Daemon:AllowFallback=true (--allow-fallback true) to use tcp instead");
        }
        BackendSummary = "verbs unavailable, falling back to auto (shm on one host, tcp otherwise; Daemon:AllowFallback)";
        LogVerbsFallback(_log, reason);
    }

    public async Task<IKvPeer> ConnectAsync(EndPoint peer, CancellationToken ct) =>
        new AgentPeer(await _agent.ConnectAsync(peer, ct).ConfigureAwait(false));

    public async ValueTask DisposeAsync()
    {
        await _agent.DisposeAsync().ConfigureAwait(false);
        _notifications.Writer.TryComplete();
        if (_pump is not null) await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Daemon:Backend is verbs but this node cannot use it: {Reason}; Daemon:AllowFallback is on, so links use the automatic choice (shm on one host, tcp otherwise)")]
    private static partial void LogVerbsFallback(ILogger logger, string reason);

    private sealed class GateAuthorizer(IWriteGate gate) : IWriteAuthorizer
    {
        public bool CanWrite(string peerNodeId, string regionId, long offset, long length) => gate.CanWrite(peerNodeId, regionId, offset, length);

        public bool CanWrite(string peerNodeId, string? grant, string regionId, long offset, long length) => gate.CanWrite(peerNodeId, grant, regionId, offset, length);

        public GrantWindow? DescribeGrant(string peerNodeId, string grant) => gate.DescribeGrant(peerNodeId, grant);
    }

    private sealed class AgentPeer(PeerConnection connection) : IKvPeer
    {
        public string PeerNodeId => connection.PeerNodeId;

        public string Backend => connection.Backend;

        public string BackendReason => connection.BackendReason;

        public bool IsAlive => connection.IsConnected;

        public Task WriteAsync(FabricBatch batch, CancellationToken ct)
        {
            // Descriptors are exchanged at connect: a pool registered on the peer since then needs a new connection.
            foreach (var op in batch.Ops)
            {
                if (!connection.RemoteRegions.Any(r => r.RegionId == op.TargetRegion))
                    throw new TransferException(TransferErrorCode.UnknownRegion, $"peer {PeerNodeId} had no region '{op.TargetRegion}' when this link was opened");
            }
            var ops = batch.Ops.Select(o => new WriteOp(o.SourceRegion, o.SourceOffset, o.TargetRegion, o.TargetOffset, o.Length)).ToList();
            return connection.WriteAsync(new WriteBatch(ops, batch.Notification, Grant: batch.Grant), ct);
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
