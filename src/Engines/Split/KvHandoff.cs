using PdRdma.Transport;

namespace PdRdma.Engines.Split;

/// <summary>Maps a layer's prompt blocks in the prefill pool onto the reserved blocks in the decode pool as byte extents.</summary>
public static class KvHandoff
{
    /// <summary>
    /// The K and V extents of <paramref name="layer"/> for source blocks → target blocks (same order, same count),
    /// with neighbours that are contiguous on both sides coalesced (by the transport's <see cref="KvBlockExtents"/>). Layouts must be compatible.
    /// </summary>
    public static IReadOnlyList<ExtentCopy> LayerCopies(KvLayout source, IReadOnlyList<int> sourceBlocks, KvLayout target, IReadOnlyList<int> targetBlocks, int layer) =>
        KvBlockExtents.Map(source, sourceBlocks, target, targetBlocks, [layer]).Select(p => new ExtentCopy(p.Source.Offset, p.Target.Offset, p.Source.Length)).ToList();
}
