using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Engine → daemon: write blocks of the engine's pool into a peer node's pool. Final (no layers) sends the request's completion notice after every earlier write of the request.</summary>
[MessagePackObject]
public sealed class WriteRequest : IEngineMessage
{
    [Key(0)] public string RequestId { get; set; } = "";
    [Key(1)] public string SourcePoolId { get; set; } = "";
    [Key(2)] public string TargetEndpoint { get; set; } = "";
    [Key(3)] public string TargetPoolId { get; set; } = "";
    [Key(4)] public int[] Layers { get; set; } = [];
    [Key(5)] public int[] SourceBlocks { get; set; } = [];
    [Key(6)] public int[] TargetBlocks { get; set; } = [];
    [Key(7)] public bool Final { get; set; }
    [Key(8)] public long TotalBytes { get; set; }
    [Key(9)] public KvLayout? TargetLayout { get; set; }

    /// <summary>Node id of the target; with a directory (etcd) the daemon resolves its endpoint there.</summary>
    [Key(10)] public string? TargetNodeId { get; set; }
}
