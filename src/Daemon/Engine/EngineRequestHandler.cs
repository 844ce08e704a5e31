using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PdRdma.Daemon.Fabric;
using PdRdma.Daemon.Leases;
using PdRdma.Daemon.Observability;
using PdRdma.Daemon.Protocol;
using PdRdma.Daemon.Writes;
using PdRdma.Transport;

namespace PdRdma.Daemon.Engine;

/// <summary>
/// What each engine-API request does: register a pool, grant/release leases, write KV (through <see cref="KvWriter"/>),
/// subscribe to events, report status. Every request gets an answer; failures become an <see cref="ErrorReply"/>
/// carrying a <see cref="TransferErrorCode"/>. Thread-safe.
/// </summary>
public sealed partial class EngineRequestHandler : IDisposable
{
    private readonly string _nodeId;
    private readonly LeaseTable _leases;
    private readonly IKvFabric _fabric;
    private readonly KvWriter _writer;
    private readonly DaemonMetrics _metrics;
    private readonly Func<StatusReply> _status;
    private readonly Func<string> _peerEndpoint;
    private readonly TimeSpan _defaultTtl;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, IMemoryRegion> _regions = new(StringComparer.Ordinal);

    public EngineRequestHandler(string nodeId, LeaseTable leases, IKvFabric fabric, KvWriter writer, DaemonMetrics metrics,
        Func<StatusReply> status, Func<string> peerEndpoint, TimeSpan defaultTtl, ILogger log)
    {
        _nodeId = nodeId;
        _leases = leases;
        _fabric = fabric;
        _writer = writer;
        _metrics = metrics;
        _status = status;
        _peerEndpoint = peerEndpoint;
        _defaultTtl = defaultTtl;
        _log = log;
    }

    /// <summary>Runs one request and returns its reply (an ErrorReply when it failed); never throws.</summary>
    public async Task<IEngineMessage> HandleAsync(EngineSession session, EngineFrame frame)
    {
        try
        {
            if (frame.Version != EngineFrame.CurrentVersion)
                throw new TransferException(TransferErrorCode.VersionMismatch, $"engine speaks engine-API v{frame.Version}, daemon v{EngineFrame.CurrentVersion}: use the same PdRdma release on both");
            return frame.Message switch
            {
                RegisterPoolRequest r => RegisterPool(session, r),
                ReserveRequest r => Reserve(session, r),
                ReleaseRequest r => new OkReply { Count = _leases.Release(r.RequestId, session.Id) ? 1 : 0 },
                WriteRequest r => await _writer.WriteAsync(r).ConfigureAwait(false),
                SubscribeRequest => Subscribe(session),
                StatusRequest => _status(),
                _ => throw new TransferException(TransferErrorCode.Protocol, $"unexpected message {frame.Message?.GetType().Name ?? "null"}"),
            };
        }
        catch (TransferException e)
        {
            return Refuse(e);
        }
        catch (Exception e)
        {
            // Every request gets an answer: an engine must never wait on a reply that will not come.
            _metrics.Error(e.GetType().Name);
            LogRequestFailed(_log, session.Id, $"{frame.Message?.GetType().Name}: {e}");
            return new ErrorReply { Code = (int)TransferErrorCode.Protocol, Message = $"{e.GetType().Name}: {e.Message}" };
        }
    }

    /// <summary>The reply that refuses a request with a typed error (counted in the errors metric).</summary>
    public ErrorReply Refuse(TransferException e)
    {
        _metrics.Error(e.Code.ToString());
        return new ErrorReply { Code = (int)e.Code, Message = e.Detail };
    }

    private PoolRegistered RegisterPool(EngineSession session, RegisterPoolRequest request)
    {
        var layout = request.Layout ?? throw new TransferException(TransferErrorCode.Protocol, "RegisterPool needs the pool's KvLayout");
        if (request.Length < layout.TotalBytes)
            throw new TransferException(TransferErrorCode.OutOfBounds, $"pool '{request.PoolId}' is {request.Length} bytes but its layout needs {layout.TotalBytes}");
        if (string.IsNullOrWhiteSpace(request.PoolId))
            throw new TransferException(TransferErrorCode.Protocol, "RegisterPool needs a pool id");
        _leases.RegisterPool(request.PoolId, layout, session.Id);
        if (!_regions.ContainsKey(request.PoolId))
        {
            var region = HostRegion.Open(request.PoolId, request.Path, request.Length);
            _regions[request.PoolId] = region;
            _fabric.RegisterRegion(region);
        }
        LogPoolRegistered(_log, request.PoolId, request.Path, request.Length, session.Id);
        return new PoolRegistered { NodeId = _nodeId, PeerEndpoint = _peerEndpoint() };
    }

    private Reserved Reserve(EngineSession session, ReserveRequest request)
    {
        var ttl = request.TtlMs > 0 ? TimeSpan.FromMilliseconds(request.TtlMs) : _defaultTtl;
        var lease = _leases.Grant(request.RequestId, request.PoolId, request.Blocks, request.PeerNodeId, ttl, session.Id);
        return new Reserved { LeaseId = lease.LeaseId, ExpiresUnixMs = lease.ExpiresAt.ToUnixTimeMilliseconds() };
    }

    private static OkReply Subscribe(EngineSession session)
    {
        session.Subscribed = true;
        return new OkReply();
    }

    /// <summary>Unmaps every pool (the daemon is gone).</summary>
    public void Dispose()
    {
        foreach (var region in _regions.Values) region.Dispose();
        _regions.Clear();
    }

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "engine session {Session}: {Reason}")]
    private static partial void LogRequestFailed(ILogger logger, long session, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "pool {PoolId} registered: {Path}, {Length} bytes (session {Session})")]
    private static partial void LogPoolRegistered(ILogger logger, string poolId, string path, long length, long session);
}
