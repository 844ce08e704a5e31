namespace PdRdma.Transport;

/// <summary>
/// What a target lets one peer write under one grant without asking again (issue 10): the extents (sorted and
/// coalesced), until <paramref name="Expires"/> or until <paramref name="Ended"/> fires (released, arrived, expired),
/// whichever comes first. The target's backends publish it (verbs: memory windows; shm: the shared grant table) and
/// revoke it when <paramref name="Ended"/> fires; the target still checks every batch against its authorizer.
/// </summary>
/// <param name="Grant">The target's name for the grant (the node daemon: the request id of the lease).</param>
/// <param name="PeerNodeId">The only peer the grant is for.</param>
/// <param name="Extents">Where the peer may write, sorted by region and offset, adjacent runs merged.</param>
/// <param name="Expires">When the grant ends at the latest.</param>
/// <param name="Ended">Fires once the grant ended early or at <paramref name="Expires"/>; never fires: CancellationToken.None.</param>
public sealed record GrantWindow(string Grant, string PeerNodeId, IReadOnlyList<GrantExtent> Extents, DateTimeOffset Expires, CancellationToken Ended)
{
    /// <summary>Most extents one window may hold; a grant over more is refused rather than published.</summary>
    public const int MaxExtents = 65536;

    /// <summary>Whether the window covers [offset, offset+length) of the region with one of its extents.</summary>
    public bool Covers(string regionId, long offset, long length)
    {
        // binary search over the sorted extents
        int lo = 0, hi = Extents.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var e = Extents[mid];
            var order = string.CompareOrdinal(e.RegionId, regionId);
            if (order == 0) order = e.Offset.CompareTo(offset);
            if (order <= 0)
            {
                if (e.Covers(regionId, offset, length)) return true;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return false;
    }

    /// <summary>Sorts by region then offset and merges runs that touch or overlap (the form <see cref="Extents"/> must have).</summary>
    public static IReadOnlyList<GrantExtent> Normalize(IEnumerable<GrantExtent> extents)
    {
        var sorted = extents.Where(e => e.Length > 0)
            .OrderBy(e => e.RegionId, StringComparer.Ordinal).ThenBy(e => e.Offset).ToList();
        var merged = new List<GrantExtent>(sorted.Count);
        foreach (var e in sorted)
        {
            if (merged.Count > 0 && merged[^1] is var last && last.RegionId == e.RegionId && e.Offset <= last.Offset + last.Length)
            {
                merged[^1] = last with { Length = Math.Max(last.Offset + last.Length, e.Offset + e.Length) - last.Offset };
            }
            else
            {
                merged.Add(e);
            }
        }
        return merged;
    }
}
