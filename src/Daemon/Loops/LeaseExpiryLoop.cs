using Microsoft.Extensions.Logging;
using PdRdma.Daemon.Engine;
using PdRdma.Daemon.Leases;
using PdRdma.Daemon.Observability;
using PdRdma.Daemon.Protocol;

namespace PdRdma.Daemon.Loops;

/// <summary>Every 200 ms expires the leases that are due and queues LeaseEnded for their owners (never waiting on an engine), and unmaps retired pool mappings past their grace.</summary>
public sealed partial class LeaseExpiryLoop
{
    private readonly LeaseTable _leases;
    private readonly EngineSessions _sessions;
    private readonly DaemonMetrics _metrics;
    private readonly PoolMappings _pools;
    private readonly ILogger _log;

    public LeaseExpiryLoop(LeaseTable leases, EngineSessions sessions, PoolMappings pools, DaemonMetrics metrics, ILogger log)
    {
        _pools = pools;
        _leases = leases;
        _sessions = sessions;
        _metrics = metrics;
        _log = log;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                _pools.Sweep();
                var expired = _leases.ExpireDue();
                if (expired.Count == 0) continue;
                _metrics.LeasesExpired(expired.Count);
                foreach (var lease in expired)
                {
                    LogLeaseExpired(_log, lease.RequestId, lease.PeerNodeId);
                    _sessions.TryPush(lease.OwnerSession, new LeaseEnded { RequestId = lease.RequestId, Reason = $"lease expired: no KV from {lease.PeerNodeId} in time" });
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "lease of request {RequestId} for peer {PeerNodeId} expired before its KV arrived")]
    private static partial void LogLeaseExpired(ILogger logger, string requestId, string peerNodeId);
}
