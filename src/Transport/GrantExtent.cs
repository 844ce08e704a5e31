namespace PdRdma.Transport;

/// <summary>One run of bytes a grant lets its peer write: [<paramref name="Offset"/>, +<paramref name="Length"/>) of a region.</summary>
public readonly record struct GrantExtent(string RegionId, long Offset, long Length)
{
    /// <summary>Whether [offset, offset+length) of <paramref name="regionId"/> lies wholly inside this extent.</summary>
    public bool Covers(string regionId, long offset, long length) =>
        length > 0 && offset >= Offset && offset <= Offset + Length - length && string.Equals(regionId, RegionId, StringComparison.Ordinal);
}
