using MessagePack;

namespace PdRdma.Daemon.Fabric.Interim;

/// <summary>Wire frame of the interim peer protocol. Keys are never reused.</summary>
[MessagePackObject]
public sealed class PeerFrame
{
    public const int CurrentVersion = 1;

    [Key(0)] public int Version { get; set; } = CurrentVersion;
    [Key(1)] public PeerFrameKind Kind { get; set; }
    [Key(2)] public long Seq { get; set; }
    [Key(3)] public string NodeId { get; set; } = "";
    [Key(4)] public byte[]? Nonce { get; set; }
    [Key(5)] public byte[]? Proof { get; set; }
    [Key(6)] public WireOp[]? Ops { get; set; }
    [Key(7)] public byte[]? Data { get; set; }
    [Key(8)] public byte[]? Notification { get; set; }
    [Key(9)] public int ErrorCode { get; set; }
    [Key(10)] public string? Error { get; set; }
}
