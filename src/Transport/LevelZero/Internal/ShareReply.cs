using MessagePack;

namespace PdRdma.Transport.LevelZero.Internal;

/// <summary>Peer → owner: the offered path is in use, or why not (the owner then offers the next one).</summary>
[MessagePackObject]
public sealed record ShareReply
{
    [Key(0)] public int Version { get; init; } = ShareOffer.CurrentVersion;
    [Key(1)] public bool Accepted { get; init; }
    [Key(2)] public string? Error { get; init; }
}
