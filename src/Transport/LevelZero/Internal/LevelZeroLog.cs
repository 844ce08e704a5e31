using Microsoft.Extensions.Logging;

namespace PdRdma.Transport.LevelZero.Internal;

internal static partial class LevelZeroLog
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "opened Level Zero device {Device} (uuid {Uuid})")]
    public static partial void Opened(ILogger logger, string device, string uuid);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "region {RegionId} shared with the peer by {Path}: {Reason}")]
    public static partial void Shared(ILogger logger, string regionId, XpuSharePath path, string reason);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "region {RegionId}: {Path} not usable ({Why}); trying the next path")]
    public static partial void PathRefused(ILogger logger, string regionId, XpuSharePath path, string why);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Information, Message = "cross-vendor link {Source} -> {Device}: {Path} ({Reason})")]
    public static partial void CrossVendor(ILogger logger, string source, string device, CrossVendorPath path, string reason);
}
