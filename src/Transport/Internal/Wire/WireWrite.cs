using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>A write as the target sees it: where the bytes go.</summary>
[MessagePackObject]
internal sealed class WireWrite
{
    [Key(0)] public string Region { get; set; } = "";
    [Key(1)] public long Offset { get; set; }
    [Key(2)] public long Length { get; set; }
}
