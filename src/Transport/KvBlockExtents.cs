namespace PdRdma.Transport;

/// <summary>
/// The one place that turns a KV block list into byte extents: for each layer, K then V, source blocks → target
/// blocks (same order), each pair an extent of each pool, coalesced with <see cref="ExtentCoalescer"/> where both
/// sides continue each other. The daemon's write plan and the in-process handoff both use it. Pure and thread-safe.
/// </summary>
public static class KvBlockExtents
{
    /// <summary>
    /// Extent pairs for <paramref name="layers"/> of <paramref name="sourceBlocks"/> → the first as many of
    /// <paramref name="targetBlocks"/>. Layouts must be compatible (LayoutMismatch otherwise); more source than
    /// target blocks is OutOfBounds.
    /// </summary>
    public static IReadOnlyList<(ByteExtent Source, ByteExtent Target)> Map(KvLayout source, IReadOnlyList<int> sourceBlocks, KvLayout target,
        IReadOnlyList<int> targetBlocks, IReadOnlyList<int> layers)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        source.EnsureCompatibleWith(target);
        if (sourceBlocks.Count > targetBlocks.Count)
            throw new TransferException(TransferErrorCode.OutOfBounds, $"{sourceBlocks.Count} source blocks but only {targetBlocks.Count} target blocks");
        return ExtentCoalescer.Coalesce(Pairs(source, sourceBlocks, target, targetBlocks, layers));
    }

    private static IEnumerable<(ByteExtent, ByteExtent)> Pairs(KvLayout source, IReadOnlyList<int> sourceBlocks, KvLayout target, IReadOnlyList<int> targetBlocks, IReadOnlyList<int> layers)
    {
        foreach (var layer in layers)
        {
            foreach (var part in new[] { KvPart.Key, KvPart.Value })
            {
                for (var i = 0; i < sourceBlocks.Count; i++) yield return (source.Extent(layer, part, sourceBlocks[i]), target.Extent(layer, part, targetBlocks[i]));
            }
        }
    }
}
