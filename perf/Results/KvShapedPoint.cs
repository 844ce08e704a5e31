namespace PdRdma.Perf.Results;

/// <summary>The same bytes written as many non-contiguous KV blocks in one batch, and as one contiguous extent.</summary>
public sealed record KvShapedPoint
{
    public required string Backend { get; init; }
    public required string Path { get; init; }
    public required long BlockBytes { get; init; }
    public required int Blocks { get; init; }
    public long TotalBytes => BlockBytes * Blocks;
    public required double BlocksGbps { get; init; }
    public required double ContiguousGbps { get; init; }
    public double Ratio => ContiguousGbps > 0 ? Math.Round(BlocksGbps / ContiguousGbps, 3) : 0;
}
