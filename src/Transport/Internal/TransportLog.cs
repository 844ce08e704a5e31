using System.Net;
using Microsoft.Extensions.Logging;

namespace PdRdma.Transport.Internal;

internal static partial class TransportLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "agent {NodeId} listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, string nodeId, EndPoint? endpoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "connected to peer {PeerNodeId} at {Endpoint}: backend {Backend} ({Reason})")]
    public static partial void Connected(ILogger logger, string peerNodeId, EndPoint? endpoint, string backend, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "accepted peer {PeerNodeId} from {Endpoint}: backend {Backend} ({Reason})")]
    public static partial void Accepted(ILogger logger, string peerNodeId, EndPoint? endpoint, string backend, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "refused connection from {Endpoint}: {Code} {Detail}")]
    public static partial void Refused(ILogger logger, EndPoint? endpoint, TransferErrorCode code, string detail);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "rejected batch {BatchId} from {PeerNodeId}: {Code} {Detail}")]
    public static partial void BatchRejected(ILogger logger, long batchId, string peerNodeId, TransferErrorCode code, string detail);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "dropped peer {PeerNodeId} at {Endpoint}: {Code} {Detail}")]
    public static partial void Dropped(ILogger logger, string peerNodeId, EndPoint? endpoint, TransferErrorCode code, string detail);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "peer {PeerNodeId} disconnected with {Unfinished} batches unfinished")]
    public static partial void Disconnected(ILogger logger, string peerNodeId, int unfinished);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "backend {Requested} not usable for peer {PeerNodeId} ({Why}); falling back to {Chosen}")]
    public static partial void FellBack(ILogger logger, string requested, string peerNodeId, string why, string chosen);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "connection to peer {PeerNodeId} failed: {Code} {Detail}")]
    public static partial void ConnectionFailed(ILogger logger, string peerNodeId, TransferErrorCode code, string detail);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "refused to open grant {Grant} for {PeerNodeId}: {Code} {Detail}")]
    public static partial void GrantRefused(ILogger logger, string grant, string peerNodeId, TransferErrorCode code, string detail);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "peer {PeerNodeId} publishes no grant windows ({Detail}): batches to it wait for its go-ahead (per-batch validation)")]
    public static partial void WindowsUnsupported(ILogger logger, string peerNodeId, string detail);
}
