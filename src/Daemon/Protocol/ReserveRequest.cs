using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Engine → daemon: grant blocks of a pool to one peer for one request, until released or expired.</summary>
[MessagePackObject]
public sealed class ReserveRequest : IEngineMessage
{
    [Key(0)] public string RequestId { get; set; } = "";
    [Key(1)] public string PoolId { get; set; } = "";
    [Key(2)] public int[] Blocks { get; set; } = [];
    [Key(3)] public string PeerNodeId { get; set; } = "";
    [Key(4)] public int TtlMs { get; set; }
}
