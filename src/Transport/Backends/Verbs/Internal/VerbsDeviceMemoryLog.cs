using Microsoft.Extensions.Logging;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>Log lines of the device-memory registration path (dma-buf or host staging).</summary>
internal static partial class VerbsDeviceMemoryLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "verbs: device region {Region} ({Bytes} bytes) registered on {Device} through its dma-buf (ibv_reg_dmabuf_mr): the NIC reads and writes it directly")]
    public static partial void DmaBufRegistered(ILogger logger, string region, long bytes, string device);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "verbs: device region {Region} ({Bytes} bytes) on {Device} goes through a registered host bounce buffer (host-staged): {Reason}")]
    public static partial void HostStaged(ILogger logger, string region, long bytes, string device, string reason);
}
