using System.Collections.Concurrent;
using System.Net;
using MessagePack;
using Microsoft.Extensions.Logging;
using PdRdma.Daemon.Fabric;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Daemon.Peers;

/// <summary>
/// Authenticated links to peer daemons, one per endpoint, opened on first use and probed by heartbeats;
/// a link that fails a write or a heartbeat is dropped and reopened on the next use. Thread-safe.
/// </summary>
public sealed partial class PeerLinks : IAsyncDisposable
{
    private readonly IKvFabric _fabric;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, Lazy<Task<IKvPeer>>> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);

    public PeerLinks(IKvFabric fabric, ILogger log)
    {
        _fabric = fabric;
        _log = log;
    }

    public async Task<IKvPeer> GetAsync(string endpoint, CancellationToken ct)
    {
        if (!IPEndPoint.TryParse(endpoint, out var address))
            throw new TransferException(TransferErrorCode.Protocol, $"peer endpoint '{endpoint}' is not address:port");
        var link = _links.GetOrAdd(endpoint, _ => new Lazy<Task<IKvPeer>>(() => ConnectAsync(endpoint, address)));
        try
        {
            var peer = await link.Value.WaitAsync(ct).ConfigureAwait(false);
            if (peer.IsAlive) return peer;
            await DropAsync(endpoint, peer, "link found dead").ConfigureAwait(false);
            return await GetAsync(endpoint, ct).ConfigureAwait(false);
        }
        catch (TransferException)
        {
            _links.TryRemove(KeyValuePair.Create(endpoint, link));
            throw;
        }
    }

    private async Task<IKvPeer> ConnectAsync(string endpoint, IPEndPoint address)
    {
        try
        {
            var peer = await _fabric.ConnectAsync(address, CancellationToken.None).ConfigureAwait(false);
            LogLinkUp(_log, peer.PeerNodeId, endpoint, peer.Backend, peer.BackendReason);
            return peer;
        }
        catch (TransferException e)
        {
            LogLinkFailed(_log, endpoint, e.Message);
            throw;
        }
    }

    public void CountBytes(string endpoint, long bytes) => _bytes.AddOrUpdate(endpoint, bytes, (_, b) => b + bytes);

    public async Task DropAsync(string endpoint, IKvPeer peer, string reason)
    {
        if (_links.TryGetValue(endpoint, out var link) && link.IsValueCreated && link.Value.IsCompletedSuccessfully && ReferenceEquals(link.Value.Result, peer))
        {
            _links.TryRemove(KeyValuePair.Create(endpoint, link));
            LogLinkDropped(_log, peer.PeerNodeId, endpoint, reason);
            await peer.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Links that are up now.</summary>
    public IReadOnlyList<(string Endpoint, IKvPeer Peer)> Live =>
        _links.Where(l => l.Value.IsValueCreated && l.Value.Value.IsCompletedSuccessfully && l.Value.Value.Result.IsAlive)
              .Select(l => (l.Key, l.Value.Value.Result)).ToList();

    public PeerStatus[] Snapshot() => Live.Select(l => new PeerStatus
    {
        NodeId = l.Peer.PeerNodeId,
        Endpoint = l.Endpoint,
        Backend = l.Peer.Backend,
        BackendReason = l.Peer.BackendReason,
        BytesWritten = _bytes.GetValueOrDefault(l.Endpoint),
        Alive = l.Peer.IsAlive,
    }).ToArray();

    /// <summary>Probes every live link once; a link that does not answer within the timeout is dropped.</summary>
    public async Task HeartbeatAsync(TimeSpan timeout, CancellationToken ct)
    {
        var ping = MessagePackSerializer.Serialize(new PeerNotice { Kind = PeerNoticeKind.Heartbeat }, FrameCodec.Options, ct);
        // Links whose connection already ended are closed here, so that they (and their metric series) go now rather
        // than at their next use.
        var dead = _links.Where(l => l.Value.IsValueCreated && l.Value.Value.IsCompletedSuccessfully && !l.Value.Value.Result.IsAlive)
            .Select(l => (l.Key, l.Value.Value.Result)).ToList();
        foreach (var (endpoint, peer) in dead) await DropAsync(endpoint, peer, "connection ended").ConfigureAwait(false);
        foreach (var (endpoint, peer) in Live)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(timeout);
            try
            {
                await peer.WriteAsync(new FabricBatch([], ping), bounded.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TransferException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                await DropAsync(endpoint, peer, $"heartbeat failed: {e.Message}").ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (endpoint, peer) in Live) await DropAsync(endpoint, peer, "daemon stopping").ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "link to peer {PeerNodeId} at {Endpoint} up: backend {Backend} ({Reason})")]
    private static partial void LogLinkUp(ILogger logger, string peerNodeId, string endpoint, string backend, string reason);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "link to peer at {Endpoint} failed: {Reason}")]
    private static partial void LogLinkFailed(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "link to peer {PeerNodeId} at {Endpoint} dropped: {Reason}")]
    private static partial void LogLinkDropped(ILogger logger, string peerNodeId, string endpoint, string reason);
}
