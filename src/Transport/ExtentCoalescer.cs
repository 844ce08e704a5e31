namespace PdRdma.Transport;

/// <summary>
/// Merges writes that continue each other on both sides (same regions, source and target both contiguous), keeping
/// the order of the list, so that many small KV blocks become few large writes. Pure and thread-safe.
/// </summary>
public static class ExtentCoalescer
{
    public static IReadOnlyList<WriteOp> Coalesce(IReadOnlyList<WriteOp> ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        var merged = new List<WriteOp>(ops.Count);
        foreach (var op in ops)
        {
            if (merged.Count > 0 && Continues(merged[^1], op))
            {
                merged[^1] = merged[^1] with { Length = merged[^1].Length + op.Length };
            }
            else
            {
                merged.Add(op);
            }
        }
        return merged;
    }

    /// <summary>Coalesces (source extent, target extent) pairs between one source and one target region.</summary>
    public static IReadOnlyList<(ByteExtent Source, ByteExtent Target)> Coalesce(IEnumerable<(ByteExtent Source, ByteExtent Target)> pairs)
    {
        var merged = new List<(ByteExtent Source, ByteExtent Target)>();
        foreach (var (source, target) in pairs)
        {
            if (source.Length != target.Length) throw new ArgumentException($"source length {source.Length} differs from target length {target.Length}");
            if (merged.Count > 0 && merged[^1].Source.End == source.Offset && merged[^1].Target.End == target.Offset)
            {
                var last = merged[^1];
                merged[^1] = (last.Source with { Length = last.Source.Length + source.Length }, last.Target with { Length = last.Target.Length + target.Length });
            }
            else
            {
                merged.Add((source, target));
            }
        }
        return merged;
    }

    private static bool Continues(WriteOp previous, WriteOp next) =>
        previous.SourceRegion == next.SourceRegion
        && previous.TargetRegion == next.TargetRegion
        && previous.SourceOffset + previous.Length == next.SourceOffset
        && previous.TargetOffset + previous.Length == next.TargetOffset;
}
