using System.Net;
using Microsoft.Extensions.Logging;

namespace PdRdma.Daemon.Fabric;

/// <summary>Settings of the fabric (the TransferAgentOptions subset the daemon uses).</summary>
public sealed class FabricOptions
{
    public required string NodeId { get; init; }
    public required IPEndPoint Listen { get; init; }
    public required byte[] ClusterSecret { get; init; }
    public string Backend { get; init; } = "auto";
    public bool AllowFallback { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public IWriteGate? Gate { get; init; }
    public ILoggerFactory? LoggerFactory { get; init; }
}
