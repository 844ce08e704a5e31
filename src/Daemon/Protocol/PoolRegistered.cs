using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Daemon → engine: the pool is registered; peers reach this node at PeerEndpoint.</summary>
[MessagePackObject]
public sealed class PoolRegistered : IEngineMessage
{
    [Key(0)] public string NodeId { get; set; } = "";
    [Key(1)] public string PeerEndpoint { get; set; } = "";
}
