using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

[MessagePackObject]
internal sealed class BatchBeginMessage
{
    [Key(0)] public long BatchId { get; set; }
    [Key(1)] public WireWrite[] Writes { get; set; } = [];
    [Key(2)] public byte[]? Notification { get; set; }
    [Key(3)] public ChecksumKind Checksum { get; set; }
}
