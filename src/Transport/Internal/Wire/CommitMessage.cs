using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

[MessagePackObject]
internal sealed class CommitMessage
{
    [Key(0)] public long BatchId { get; set; }
    [Key(1)] public ulong Checksum { get; set; }
}
