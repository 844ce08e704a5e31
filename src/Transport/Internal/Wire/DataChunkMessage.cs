using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>Header of raw bytes that follow the frame, for write <see cref="WriteIndex"/> of an accepted batch.</summary>
[MessagePackObject]
internal sealed class DataChunkMessage
{
    [Key(0)] public long BatchId { get; set; }
    [Key(1)] public int WriteIndex { get; set; }
    [Key(2)] public long OffsetInWrite { get; set; }
    [Key(3)] public int Length { get; set; }
}
