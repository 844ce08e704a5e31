using MessagePack;

namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// A type-2 memory window the target bound on one peer's queue pair: that peer (only) may RDMA WRITE into
/// [<see cref="Offset"/>, +<see cref="Length"/>) of region <see cref="RegionId"/> with <see cref="RemoteKey"/>, until the
/// target invalidates it. The address is the region's own (windows are not zero-based).
/// </summary>
[MessagePackObject]
public sealed record VerbsWindow(
    [property: Key(0)] string RegionId,
    [property: Key(1)] long Offset,
    [property: Key(2)] long Length,
    [property: Key(3)] uint RemoteKey)
{
    /// <summary>Whether [offset, offset+length) of the region lies inside this window.</summary>
    public bool Covers(string regionId, long offset, long length) =>
        string.Equals(regionId, RegionId, StringComparison.Ordinal) && offset >= Offset && length >= 0 && offset + length <= Offset + Length;
}
