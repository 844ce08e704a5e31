using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Daemon → engine: node status.</summary>
[MessagePackObject]
public sealed class StatusReply : IEngineMessage
{
    [Key(0)] public string NodeId { get; set; } = "";
    [Key(1)] public int DaemonVersion { get; set; }
    [Key(2)] public string PeerEndpoint { get; set; } = "";
    [Key(3)] public string[] Pools { get; set; } = [];
    [Key(4)] public int LeasesActive { get; set; }
    [Key(5)] public long LeasesExpired { get; set; }
    [Key(6)] public PeerStatus[] Peers { get; set; } = [];
}
