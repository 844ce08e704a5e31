namespace PdRdma.Transport;

/// <summary>A byte range inside a region.</summary>
public readonly record struct ByteExtent(long Offset, long Length)
{
    public long End => Offset + Length;
}
