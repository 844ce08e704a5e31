using System.Diagnostics;
using MessagePack;
using Microsoft.Extensions.Logging;
using PdRdma.Daemon.Discovery;
using PdRdma.Daemon.Engine;
using PdRdma.Daemon.Fabric;
using PdRdma.Daemon.Leases;
using PdRdma.Daemon.Observability;
using PdRdma.Daemon.Peers;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Daemon.Writes;

/// <summary>
/// The daemon's write path: turns an engine's <see cref="WriteRequest"/> into a fabric batch, finds the target
/// (directory or named endpoint), writes over the peer link and reconnects once when the target's regions changed
/// since the link opened. Every write is counted in <see cref="InFlight"/> so that a stopping daemon can drain
/// them; <see cref="Abort"/> fails the ones still running. Thread-safe.
/// </summary>
public sealed partial class KvWriter
{
    private readonly string _nodeId;
    private readonly LeaseTable _leases;
    private readonly PeerLinks _links;
    private readonly Func<NodeDirectory?> _directory;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _abort = new();

    public KvWriter(string nodeId, LeaseTable leases, PeerLinks links, Func<NodeDirectory?> directory, DaemonMetrics metrics, ILogger log)
    {
        _nodeId = nodeId;
        _leases = leases;
        _links = links;
        _directory = directory;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>Writes in flight; closed when the daemon stops.</summary>
    public InFlightCounter InFlight { get; } = new();

    /// <summary>Fails every write still running (after the drain bound).</summary>
    public void Abort() => _abort.Cancel();

    /// <summary>Runs one write to its end; throws <see cref="TransferException"/> with the reason when it fails or is refused.</summary>
    public async Task<Written> WriteAsync(WriteRequest request)
    {
        if (!InFlight.TryEnter())
            throw new TransferException(TransferErrorCode.PeerLost, $"daemon {_nodeId} is shutting down: write of request {request.RequestId} refused");
        try
        {
            var batch = BuildBatch(request);
            var targetEndpoint = ResolveTarget(request);
            var clock = Stopwatch.StartNew();
            var peer = await _links.GetAsync(targetEndpoint, _abort.Token).ConfigureAwait(false);
            try
            {
                try
                {
                    await peer.WriteAsync(batch, _abort.Token).ConfigureAwait(false);
                }
                catch (TransferException e) when (e.Code == TransferErrorCode.UnknownRegion)
                {
                    // The target's pool was registered (or re-registered after an engine restart) after this link
                    // opened: reconnect once to learn its regions.
                    await _links.DropAsync(targetEndpoint, peer, e.Message).ConfigureAwait(false);
                    peer = await _links.GetAsync(targetEndpoint, _abort.Token).ConfigureAwait(false);
                    await peer.WriteAsync(batch, _abort.Token).ConfigureAwait(false);
                }
            }
            catch (TransferException e) when (e.Code is TransferErrorCode.PeerLost or TransferErrorCode.Timeout or TransferErrorCode.Protocol)
            {
                await _links.DropAsync(targetEndpoint, peer, e.Message).ConfigureAwait(false);
                throw;
            }
            catch (OperationCanceledException)
            {
                throw new TransferException(TransferErrorCode.PeerLost, $"daemon {_nodeId} shut down before the write of request {request.RequestId} to {peer.PeerNodeId} completed");
            }
            var elapsed = clock.Elapsed;
            LogWritten(_log, request.RequestId, batch.Bytes, peer.PeerNodeId, peer.Backend, elapsed.TotalMilliseconds);
            _metrics.Written(peer.PeerNodeId, peer.Backend, batch.Bytes, elapsed);
            _links.CountBytes(targetEndpoint, batch.Bytes);
            return new Written { Bytes = batch.Bytes, Batches = 1, Backend = peer.Backend, PeerNodeId = peer.PeerNodeId, Micros = elapsed.TotalMicroseconds };
        }
        catch (OperationCanceledException)
        {
            throw new TransferException(TransferErrorCode.PeerLost, $"daemon {_nodeId} shut down before the write of request {request.RequestId} completed");
        }
        finally
        {
            InFlight.Exit();
        }
    }

    private FabricBatch BuildBatch(WriteRequest request)
    {
        if (request.Final)
        {
            var notice = new PeerNotice { Kind = PeerNoticeKind.Arrived, RequestId = request.RequestId, Bytes = request.TotalBytes };
            return new FabricBatch([], MessagePackSerializer.Serialize(notice, FrameCodec.Options));
        }
        if (!_leases.TryGetPool(request.SourcePoolId, out var source))
            throw new TransferException(TransferErrorCode.UnknownRegion, $"source pool '{request.SourcePoolId}' is not registered with daemon {_nodeId}");
        var target = request.TargetLayout ?? throw new TransferException(TransferErrorCode.Protocol, "Write needs the target pool's KvLayout");
        return new FabricBatch(KvWritePlan.Build(request.SourcePoolId, source, request.TargetPoolId, target, request.Layers, request.SourceBlocks, request.TargetBlocks));
    }

    /// <summary>
    /// Where to send a write: the target's etcd record when there is a directory and it lists the node (authoritative),
    /// else the endpoint the request names (a record can be briefly absent while a node re-registers; the peer is
    /// authenticated at connect either way), else a typed error.
    /// </summary>
    private string ResolveTarget(WriteRequest request)
    {
        var directory = _directory();
        if (directory is null || string.IsNullOrEmpty(request.TargetNodeId))
            return request.TargetEndpoint.Length > 0 ? request.TargetEndpoint
                : throw new TransferException(TransferErrorCode.Protocol, $"write of request {request.RequestId} names no target endpoint and this daemon has no directory (Daemon:Etcd) to resolve node '{request.TargetNodeId}'");
        if (directory.Find(request.TargetNodeId) is { } record && record.EndpointFor("tcp") is { } endpoint) return endpoint;
        if (request.TargetEndpoint.Length > 0) return request.TargetEndpoint;
        throw new TransferException(TransferErrorCode.PeerLost, $"node '{request.TargetNodeId}' is not registered in etcd at {directory.Endpoints} (dead, cut off or never started)");
    }

    [LoggerMessage(EventId = 14, Level = LogLevel.Debug, Message = "request {RequestId}: {Bytes} bytes to {PeerNodeId} over {Backend} in {Ms} ms")]
    private static partial void LogWritten(ILogger logger, string requestId, long bytes, string peerNodeId, string backend, double ms);
}
