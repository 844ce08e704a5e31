namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>The memory windows that cover a grant: one per extent run, or fewer when there are too many.</summary>
internal static class WindowPlanner
{
    /// <summary>
    /// At most <paramref name="max"/> runs covering <paramref name="extents"/> (sorted by region and offset, merged, as
    /// <see cref="GrantWindow.Extents"/> are): one per extent while they fit; beyond that the smallest gaps between runs
    /// of the same region are closed first (the windows then also cover those gaps: the target's per-batch check still
    /// refuses writes there, the NIC no longer does).
    /// </summary>
    /// <exception cref="TransferException">PoolFull when the grant spans more regions than <paramref name="max"/>.</exception>
    public static List<GrantExtent> Runs(IReadOnlyList<GrantExtent> extents, int max)
    {
        var runs = new List<GrantExtent>(extents);
        if (runs.Count <= max) return runs;
        int regions = runs.Select(r => r.RegionId).Distinct(StringComparer.Ordinal).Count();
        if (regions > max) throw new TransferException(TransferErrorCode.PoolFull, $"a grant over {regions} regions needs more than {max} memory windows");
        // gaps between neighbours of the same region, smallest first; close the (count - max) smallest
        var gaps = new List<(long Gap, int Index)>();
        for (int i = 1; i < runs.Count; i++)
        {
            if (runs[i].RegionId == runs[i - 1].RegionId) gaps.Add((runs[i].Offset - (runs[i - 1].Offset + runs[i - 1].Length), i));
        }
        var close = gaps.OrderBy(g => g.Gap).ThenBy(g => g.Index).Take(runs.Count - max).Select(g => g.Index).ToHashSet();
        var merged = new List<GrantExtent>(max);
        for (int i = 0; i < runs.Count; i++)
        {
            if (close.Contains(i)) merged[^1] = merged[^1] with { Length = runs[i].Offset + runs[i].Length - merged[^1].Offset };
            else merged.Add(runs[i]);
        }
        return merged;
    }
}
