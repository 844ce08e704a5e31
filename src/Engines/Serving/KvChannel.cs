using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdRdma.Daemon;
using PdRdma.Daemon.Client;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Engines.Serving;

/// <summary>
/// An engine's path to the KV transfer machinery, either through the node daemon (its Unix socket) or with the
/// daemon's parts linked into this process (a private NodeDaemon: fabric, leases, auth). Reconnects and
/// re-registers the pool when an external daemon comes back after a restart. Thread-safe.
/// </summary>
public sealed class KvChannel : IAsyncDisposable
{
    private readonly string _socket;
    private readonly NodeDaemon? _inProcess;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Arrived>> _waiters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Arrived> _early = new(StringComparer.Ordinal);
    private DaemonClient? _client;
    private IServingModel? _model;
    private string _poolId = "";

    private KvChannel(string socket, NodeDaemon? inProcess)
    {
        _socket = socket;
        _inProcess = inProcess;
    }

    /// <summary>"daemon" or "in-process".</summary>
    public string Mode => _inProcess is null ? "daemon" : "in-process";

    public string NodeId { get; private set; } = "";

    public string PeerEndpoint { get; private set; } = "";

    public string PoolId => _poolId;

    /// <summary>Raised when the daemon ends a lease on its own (expiry); the engine frees the request's blocks.</summary>
    public event Action<string, string>? LeaseEnded;

    public static KvChannel ThroughDaemon(string socket) => new(socket, null);

    /// <summary>
    /// Links the daemon's parts into this process, listening for peers at <paramref name="peerListen"/>;
    /// <paramref name="backend"/> as the daemon's --backend (auto, shm, tcp, verbs).
    /// </summary>
    public static async Task<KvChannel> InProcessAsync(string nodeId, string peerListen, string? advertise, byte[] secret, ILoggerFactory loggers, string backend, CancellationToken ct)
    {
        var socket = Path.Combine(Path.GetTempPath(), $"pdrdma-inproc-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40] + ".sock");
        var options = new DaemonOptions
        {
            NodeId = nodeId,
            Socket = socket,
            SocketGroup = "",
            PeerListen = peerListen,
            AdvertiseAddress = advertise,
            ClusterSecret = Convert.ToHexString(secret),
            Backend = backend,
        };
        var errors = new DaemonOptionsValidator().Validate(null, options);
        if (errors.Failed) throw new ArgumentException(errors.FailureMessage);
        var daemon = new NodeDaemon(Options.Create(options), loggers, o => new PdRdma.Daemon.Fabric.TransferAgentFabric(o));
        await daemon.StartAsync(ct).ConfigureAwait(false);
        return new KvChannel(socket, daemon);
    }

    /// <summary>Registers the model's pool with the daemon (again after a daemon restart).</summary>
    public async Task RegisterPoolAsync(IServingModel model, string poolId, CancellationToken ct)
    {
        _model = model;
        _poolId = poolId;
        await ClientAsync(ct).ConfigureAwait(false);
    }

    private async Task<DaemonClient> ClientAsync(CancellationToken ct)
    {
        var client = _client;
        if (client is not null && !client.Closed.IsCompleted) return client;
        await _connectLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_client is not null && !_client.Closed.IsCompleted) return _client;
            if (_client is not null) await _client.DisposeAsync().ConfigureAwait(false);
            var fresh = await DaemonClient.ConnectAsync(_socket, ct).ConfigureAwait(false);
            if (_model is not null)
            {
                // The daemon maps the pool from its descriptor (it opens no path); only host pools can be handed over.
                var registered = _model.Pool is HostRegion host
                    ? await fresh.RegisterPoolAsync(_poolId, host, _model.Layout, ct).ConfigureAwait(false)
                    : throw new TransferException(TransferErrorCode.Unsupported, $"the node daemon maps host pools only; pool '{_poolId}' is {_model.Pool.Kind}");
                NodeId = registered.NodeId;
                PeerEndpoint = registered.PeerEndpoint;
            }
            await fresh.SubscribeAsync(ct).ConfigureAwait(false);
            _client = fresh;
            _ = Task.Run(() => PumpEventsAsync(fresh), CancellationToken.None);
            return fresh;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private async Task PumpEventsAsync(DaemonClient client)
    {
        try
        {
            await foreach (var message in client.Events.ReadAllAsync().ConfigureAwait(false))
            {
                switch (message)
                {
                    case Arrived arrived:
                        if (_waiters.TryGetValue(arrived.RequestId, out var waiter)) waiter.TrySetResult(arrived);
                        else _early[arrived.RequestId] = arrived;
                        break;
                    case LeaseEnded ended:
                        if (_waiters.TryGetValue(ended.RequestId, out var lost))
                            lost.TrySetException(new TransferException(TransferErrorCode.Timeout, $"request {ended.RequestId}: {ended.Reason}"));
                        LeaseEnded?.Invoke(ended.RequestId, ended.Reason);
                        break;
                }
            }
        }
        catch (TransferException)
        {
        }
        var gone = new TransferException(TransferErrorCode.PeerLost, $"the node daemon at {_socket} went away while the KV of this request was in flight");
        foreach (var id in _waiters.Keys)
        {
            if (_waiters.TryGetValue(id, out var waiter)) waiter.TrySetException(gone);
        }
    }

    public async Task<StatusReply> StatusAsync(CancellationToken ct) =>
        await (await ClientAsync(ct).ConfigureAwait(false)).StatusAsync(ct).ConfigureAwait(false);

    /// <summary>Decode side: lets <paramref name="peerNodeId"/> write <paramref name="blocks"/> for this request until it arrives or the lease expires.</summary>
    public async Task GrantAsync(string requestId, int[] blocks, string peerNodeId, TimeSpan ttl, CancellationToken ct)
    {
        using var bounded = Bounded(ct);
        ct = bounded.Token;
        var client = await ClientAsync(ct).ConfigureAwait(false);
        _waiters[requestId] = new TaskCompletionSource<Arrived>(TaskCreationOptions.RunContinuationsAsynchronously);
        await client.ReserveAsync(requestId, _poolId, blocks, peerNodeId, ttl, ct).ConfigureAwait(false);
    }

    /// <summary>Waits until every KV byte of the request is in the pool; throws TransferException on expiry or daemon loss.</summary>
    public async Task<Arrived> WaitArrivedAsync(string requestId, TimeSpan timeout, CancellationToken ct)
    {
        if (_early.TryRemove(requestId, out var early)) { _waiters.TryRemove(requestId, out _); return early; }
        if (!_waiters.TryGetValue(requestId, out var waiter))
            throw new TransferException(TransferErrorCode.Protocol, $"request {requestId} holds no lease on this engine (expired or never reserved)");
        try
        {
            return await waiter.Task.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TransferException(TransferErrorCode.Timeout, $"the KV of request {requestId} did not arrive within {timeout.TotalSeconds:0.#} s");
        }
        finally
        {
            _waiters.TryRemove(requestId, out _);
        }
    }

    public async Task ReleaseAsync(string requestId)
    {
        _waiters.TryRemove(requestId, out _);
        _early.TryRemove(requestId, out _);
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var client = await ClientAsync(bounded.Token).ConfigureAwait(false);
            await client.ReleaseAsync(requestId, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TransferException or OperationCanceledException)
        {
            // a daemon that is gone has dropped the lease with our session
        }
    }

    /// <summary>Prefill side: writes layers of our blocks into the target's blocks.</summary>
    public async Task<Written> WriteAsync(string requestId, KvTarget target, int[] layers, int[] sourceBlocks, CancellationToken ct)
    {
        using var bounded = Bounded(ct);
        ct = bounded.Token;
        var client = await ClientAsync(ct).ConfigureAwait(false);
        return await client.WriteAsync(new WriteRequest
        {
            RequestId = requestId,
            SourcePoolId = _poolId,
            TargetEndpoint = target.Endpoint,
            TargetNodeId = target.Node,
            TargetPoolId = target.Pool,
            TargetLayout = target.Layout,
            Layers = layers,
            SourceBlocks = sourceBlocks,
            TargetBlocks = target.Blocks[..sourceBlocks.Length],
        }, ct).ConfigureAwait(false);
    }

    /// <summary>Prefill side: after every write of the request completed, tells the target its KV is complete.</summary>
    public async Task<Written> FinishAsync(string requestId, KvTarget target, long totalBytes, CancellationToken ct)
    {
        using var bounded = Bounded(ct);
        ct = bounded.Token;
        var client = await ClientAsync(ct).ConfigureAwait(false);
        return await client.WriteAsync(new WriteRequest { RequestId = requestId, TargetEndpoint = target.Endpoint, TargetNodeId = target.Node, TargetPoolId = target.Pool, Final = true, TotalBytes = totalBytes }, ct).ConfigureAwait(false);
    }

    /// <summary>Every call to the daemon is bounded, so an engine never waits forever on a daemon that hangs.</summary>
    public static TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    private static CancellationTokenSource Bounded(CancellationToken ct)
    {
        var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(CallTimeout);
        return bounded;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null) await _client.DisposeAsync().ConfigureAwait(false);
        if (_inProcess is not null) await _inProcess.DisposeAsync().ConfigureAwait(false);
    }
}
