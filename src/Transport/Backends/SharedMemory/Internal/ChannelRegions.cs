using MessagePack;

namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>
/// Initiator → target setup blob: the target region names in the order the initiator's records index them, so that a
/// record names a region by a small number. The target resolves each name again for every batch (a region
/// unregistered since is refused as unknown).
/// </summary>
[MessagePackObject]
public sealed record ChannelRegions(
    [property: Key(0)] int Version,
    [property: Key(1)] string[] Regions);
