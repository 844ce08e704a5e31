using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>
/// Header of <see cref="Length"/> raw bytes that follow the frame: writes <see cref="FirstWrite"/> ..
/// <see cref="FirstWrite"/> + <see cref="Count"/> - 1 of an accepted batch, whole and in order, then (with data
/// authentication) one 16-byte MAC over all of them. Thousands of small KV blocks cost a few frames, not one each.
/// </summary>
[MessagePackObject]
internal sealed class DataRunMessage
{
    [Key(0)] public long BatchId { get; set; }
    [Key(1)] public int FirstWrite { get; set; }
    [Key(2)] public int Count { get; set; }
    [Key(3)] public int Length { get; set; }
}
