using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Daemon → engine: a write completed on the target.</summary>
[MessagePackObject]
public sealed class Written : IEngineMessage
{
    [Key(0)] public long Bytes { get; set; }
    [Key(1)] public int Batches { get; set; }
    [Key(2)] public string Backend { get; set; } = "";
    [Key(3)] public string PeerNodeId { get; set; } = "";
    [Key(4)] public double Micros { get; set; }
}
