using System.Net;
using System.Threading.Channels;
using PdRdma.Transport;

namespace PdRdma.Daemon.Fabric;

/// <summary>
/// <see cref="IKvFabric"/> over src/Transport's <see cref="TransferAgent"/>: mutual challenge–response from the
/// cluster secret, backend per peer (shm on one host, tcp otherwise, verbs when asked), the lease gate as the
/// agent's write authorizer. Thread-safe.
/// </summary>
public sealed class TransferAgentFabric : IKvFabric
{
    private readonly TransferAgent _agent;
    private readonly Channel<FabricNotification> _notifications = Channel.CreateUnbounded<FabricNotification>();
    private Task? _pump;

    public TransferAgentFabric(FabricOptions options)
    {
        NodeId = options.NodeId;
        _agent = new TransferAgent(new TransferAgentOptions
        {
            NodeId = options.NodeId,
            Listen = options.Listen,
            Backend = ParseBackend(options.Backend),
            ClusterSecret = options.ClusterSecret,
            Authorizer = options.Gate is null ? null : new GateAuthorizer(options.Gate),
            LoggerFactory = options.LoggerFactory,
        });
    }

    public string NodeId { get; }

    public IPEndPoint? LocalEndpoint => _agent.LocalEndpoint;

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

    public async Task StartAsync(CancellationToken ct)
    {
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

    public async Task<IKvPeer> ConnectAsync(EndPoint peer, CancellationToken ct) =>
        new AgentPeer(await _agent.ConnectAsync(peer, ct).ConfigureAwait(false));

    public async ValueTask DisposeAsync()
    {
        await _agent.DisposeAsync().ConfigureAwait(false);
        _notifications.Writer.TryComplete();
        if (_pump is not null) await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private sealed class GateAuthorizer(IWriteGate gate) : IWriteAuthorizer
    {
        public bool CanWrite(string peerNodeId, string regionId, long offset, long length) => gate.CanWrite(peerNodeId, regionId, offset, length);
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
            return connection.WriteAsync(new WriteBatch(ops, batch.Notification), ct);
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}
