using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Daemon → engine (event): every block of a request has arrived.</summary>
[MessagePackObject]
public sealed class Arrived : IEngineMessage
{
    [Key(0)] public string RequestId { get; set; } = "";
    [Key(1)] public string PeerNodeId { get; set; } = "";
    [Key(2)] public long Bytes { get; set; }
}
