using MessagePack;
using Microsoft.Extensions.Logging;
using PdRdma.Daemon.Engine;
using PdRdma.Daemon.Fabric;
using PdRdma.Daemon.Leases;
using PdRdma.Daemon.Observability;
using PdRdma.Daemon.Peers;
using PdRdma.Daemon.Protocol;

namespace PdRdma.Daemon.Loops;

/// <summary>
/// Turns peers' notices (each delivered by the fabric after every byte of its batch is in place) into Arrived events
/// for the engine that holds the lease. Events are queued per session without waiting, so an engine that stops
/// reading never holds up another's.
/// </summary>
public sealed partial class NotificationPump
{
    private readonly IKvFabric _fabric;
    private readonly LeaseTable _leases;
    private readonly EngineSessions _sessions;
    private readonly DaemonMetrics _metrics;
    private readonly ILogger _log;

    public NotificationPump(IKvFabric fabric, LeaseTable leases, EngineSessions sessions, DaemonMetrics metrics, ILogger log)
    {
        _fabric = fabric;
        _leases = leases;
        _sessions = sessions;
        _metrics = metrics;
        _log = log;
    }

    /// <summary>Runs until the fabric's notifications end or <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var note in _fabric.Notifications.ReadAllAsync(ct).ConfigureAwait(false))
                Deliver(note);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Deliver(FabricNotification note)
    {
        PeerNotice notice;
        try
        {
            notice = MessagePackSerializer.Deserialize<PeerNotice>(note.Payload, FrameCodec.Options);
        }
        catch (MessagePackSerializationException e)
        {
            LogBadNotice(_log, note.PeerNodeId, e.Message);
            _metrics.Error("BadNotice");
            return;
        }
        if (notice.Kind != PeerNoticeKind.Arrived) return;
        _metrics.Received(note.PeerNodeId, notice.Bytes);
        var lease = _leases.MarkArrived(notice.RequestId, note.PeerNodeId);
        if (lease is null)
        {
            LogStrayArrival(_log, notice.RequestId, note.PeerNodeId);
            return;
        }
        _sessions.TryPush(lease.OwnerSession, new Arrived { RequestId = notice.RequestId, PeerNodeId = note.PeerNodeId, Bytes = notice.Bytes });
    }

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "arrival notice for request {RequestId} from {PeerNodeId} matches no active lease (expired or released)")]
    private static partial void LogStrayArrival(ILogger logger, string requestId, string peerNodeId);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "undecodable notice from {PeerNodeId}: {Reason}")]
    private static partial void LogBadNotice(ILogger logger, string peerNodeId, string reason);
}
