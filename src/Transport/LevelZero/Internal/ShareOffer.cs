using MessagePack;

namespace PdRdma.Transport.LevelZero.Internal;

/// <summary>Owner → peer, with the region's descriptor attached (SCM_RIGHTS): one way to reach the region.</summary>
[MessagePackObject]
public sealed record ShareOffer
{
    public const int CurrentVersion = 1;

    [Key(0)] public int Version { get; init; } = CurrentVersion;
    [Key(1)] public XpuSharePath Path { get; init; }
    [Key(2)] public string RegionId { get; init; } = "";
    [Key(3)] public long Length { get; init; }
    [Key(4)] public byte[] DeviceUuid { get; init; } = [];
}
