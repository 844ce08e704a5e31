using MessagePack;

namespace PdRdma.Daemon.Protocol;

/// <summary>One peer link as seen from this daemon.</summary>
[MessagePackObject]
public sealed class PeerStatus
{
    [Key(0)] public string NodeId { get; set; } = "";
    [Key(1)] public string Endpoint { get; set; } = "";
    [Key(2)] public string Backend { get; set; } = "";
    [Key(3)] public string BackendReason { get; set; } = "";
    [Key(4)] public long BytesWritten { get; set; }
    [Key(5)] public bool Alive { get; set; }
}
