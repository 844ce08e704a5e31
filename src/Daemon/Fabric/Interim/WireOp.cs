using MessagePack;

namespace PdRdma.Daemon.Fabric.Interim;

/// <summary>One write's target and length; the bytes travel concatenated in the frame's Data.</summary>
[MessagePackObject]
public sealed class WireOp
{
    [Key(0)] public string Region { get; set; } = "";
    [Key(1)] public long Offset { get; set; }
    [Key(2)] public long Length { get; set; }
}
