using Microsoft.Win32.SafeHandles;
using Microsoft.Extensions.Logging;
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
    private readonly PoolMappings _pools;
    private readonly KvWriter _writer;
    private readonly DaemonMetrics _metrics;
    private readonly Func<StatusReply> _status;
    private readonly Func<string> _peerEndpoint;
    private readonly TimeSpan _defaultTtl;
    private readonly ILogger _log;

    public EngineRequestHandler(string nodeId, LeaseTable leases, PoolMappings pools, KvWriter writer, DaemonMetrics metrics,
        Func<StatusReply> status, Func<string> peerEndpoint, TimeSpan defaultTtl, ILogger log)
    {
        _nodeId = nodeId;
        _leases = leases;
        _pools = pools;
        _writer = writer;
        _metrics = metrics;
        _status = status;
        _peerEndpoint = peerEndpoint;
        _defaultTtl = defaultTtl;
        _log = log;
    }

    /// <summary>
    /// Runs one request and returns its reply (an ErrorReply when it failed); never throws. <paramref name="descriptor"/>
    /// is the pool descriptor attached to a RegisterPool frame (ownership moves here; disposed when not used).
    /// </summary>
    public async Task<IEngineMessage> HandleAsync(EngineSession session, EngineFrame frame, SafeFileHandle? descriptor = null)
    {
        try
        {
            if (frame.Message is not RegisterPoolRequest) descriptor?.Dispose();
            if (frame.Version != EngineFrame.CurrentVersion)
                throw new TransferException(TransferErrorCode.VersionMismatch, $"engine speaks engine-API v{frame.Version}, daemon v{EngineFrame.CurrentVersion}: use the same PdRdma release on both");
            return frame.Message switch
            {
                RegisterPoolRequest r => RegisterPool(session, r, descriptor),
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
            descriptor?.Dispose();
            return Refuse(e);
        }
        catch (Exception e)
        {
            descriptor?.Dispose();
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

    private PoolRegistered RegisterPool(EngineSession session, RegisterPoolRequest request, SafeFileHandle? descriptor)
    {
        if (!string.IsNullOrEmpty(request.Path))
            throw new TransferException(TransferErrorCode.AccessDenied, $"RegisterPool of '{request.PoolId}' names a file: this daemon opens no path an engine names; hand it the pool's descriptor instead (DaemonClient.RegisterPoolAsync with the region, pdrdma_daemon_register_pool or Python Daemon.register_pool of this release)");
        if (descriptor is null)
            throw new TransferException(TransferErrorCode.Protocol, $"RegisterPool of '{request.PoolId}' came without the pool's descriptor (SCM_RIGHTS on the frame's first byte)");
        var layout = request.Layout ?? throw new TransferException(TransferErrorCode.Protocol, "RegisterPool needs the pool's KvLayout");
        if (string.IsNullOrWhiteSpace(request.PoolId) || request.PoolId.Length > 128 || request.PoolId.Any(char.IsControl))
            throw new TransferException(TransferErrorCode.Protocol, "RegisterPool needs a pool id of 1-128 printable characters");
        if (request.Length < layout.TotalBytes)
            throw new TransferException(TransferErrorCode.OutOfBounds, $"pool '{request.PoolId}' is {request.Length} bytes but its layout needs {layout.TotalBytes}");
        // The lease table refuses an id another live engine holds, before any mapping is touched.
        _leases.RegisterPool(request.PoolId, layout, session.Id);
        _pools.Map(request.PoolId, session.Id, descriptor, request.Length);
        LogPoolRegistered(_log, request.PoolId, request.Length, session.Id);
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
    public void Dispose() => _pools.Dispose();

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "engine session {Session}: {Reason}")]
    private static partial void LogRequestFailed(ILogger logger, long session, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "pool {PoolId} registered by descriptor: {Length} bytes (session {Session})")]
    private static partial void LogPoolRegistered(ILogger logger, string poolId, long length, long session);
}
