using Microsoft.Extensions.Logging;

namespace PdRdma.Transport.Backends.Verbs.Internal;

internal static partial class VerbsLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "verbs: opened {Device} port {Port}, GID index {GidIndex} ({Gid}), MTU {Mtu}")]
    public static partial void DeviceOpened(ILogger logger, string device, byte port, int gidIndex, string gid, int mtu);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "verbs: QP {Qpn} connected to peer {Peer} (remote QP {RemoteQpn}, MTU {Mtu})")]
    public static partial void Connected(ILogger logger, uint qpn, string peer, uint remoteQpn, int mtu);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "verbs: QP {Qpn} to peer {Peer} torn down: {Reason}")]
    public static partial void TornDown(ILogger logger, uint qpn, string peer, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "verbs: async event {Event} on {Device}")]
    public static partial void AsyncEvent(ILogger logger, string @event, string device);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Error, Message = "verbs: completion poller of {Device} failed")]
    public static partial void PollerFailed(ILogger logger, Exception exception, string device);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "verbs: region {Region} cannot be registered, peers cannot use verbs with it: {Reason}")]
    public static partial void RegionUnusable(ILogger logger, string region, string reason);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "verbs: {Device} has type-2 memory windows: each grant is bound to windows on its peer's queue pair and enforced by the NIC; batches under a grant go without a proceed round trip")]
    public static partial void WindowsEnforced(ILogger logger, string device);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "verbs: no memory windows on {Device}: {Reason}; grants fall back to per-batch validation (the target checks each batch before it proceeds, one round trip per batch)")]
    public static partial void WindowsUnavailable(ILogger logger, string device, string reason);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Debug, Message = "verbs: grant {Grant} of {Peer}: {Windows} memory windows bound on QP {Qpn} ({Bytes} bytes)")]
    public static partial void GrantPublished(ILogger logger, string grant, string peer, int windows, uint qpn, long bytes);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Debug, Message = "verbs: grant {Grant} of {Peer} ended: its memory windows are revoked")]
    public static partial void GrantRevoked(ILogger logger, string grant, string peer);
}
