using PdRdma.Transport;

namespace PdRdma.Engines.Split;

/// <summary>Maps a layer's prompt blocks in the prefill pool onto the reserved blocks in the decode pool as byte extents.</summary>
public static class KvHandoff
{
    /// <summary>
    /// The K and V extents of <paramref name="layer"/> for source blocks → target blocks (same order, same count),
    /// with neighbours that are contiguous on both sides coalesced. Layouts must be compatible.
    /// </summary>
    public static IReadOnlyList<ExtentCopy> LayerCopies(KvLayout source, IReadOnlyList<int> sourceBlocks, KvLayout target, IReadOnlyList<int> targetBlocks, int layer)
    {
        source.EnsureCompatibleWith(target);
        if (sourceBlocks.Count > targetBlocks.Count)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"{sourceBlocks.Count} prompt blocks but only {targetBlocks.Count} reserved");
        }
        var copies = new List<ExtentCopy>();
        foreach (var part in new[] { KvPart.Key, KvPart.Value })
        {
            for (int i = 0; i < sourceBlocks.Count; i++)
            {
                var s = source.Extent(layer, part, sourceBlocks[i]);
                var t = target.Extent(layer, part, targetBlocks[i]);
                if (copies.Count > 0)
                {
                    var last = copies[^1];
                    if (last.SourceOffset + last.Length == s.Offset && last.TargetOffset + last.Length == t.Offset)
                    {
                        copies[^1] = last with { Length = last.Length + s.Length };
                        continue;
                    }
                }
                copies.Add(new ExtentCopy(s.Offset, t.Offset, s.Length));
            }
        }
        return copies;
    }
}
