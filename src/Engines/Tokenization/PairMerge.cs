namespace PdRdma.Engines.Tokenization;

/// <summary>
/// The one BPE merge loop of both tokenizers: repeatedly merge the adjacent pair that merges at the lowest cost (llama2.c:
/// the highest piece score; tokenizer.json: the lowest merge rank), the leftmost among equals — in O(n log n) with a
/// heap of candidate pairs over a linked list (entries whose symbols changed since they were offered are skipped),
/// not by rescanning every pair after each merge (quadratic on a long word). Node indices keep their original order,
/// so "leftmost" is the smallest left index, as in the rescanning loop. Pure; thread-safe.
/// </summary>
public static class PairMerge
{
    /// <summary>Whether <paramref name="left"/> and <paramref name="right"/> merge, into what, and at which cost (lower merges first).</summary>
    public delegate bool TryMerge<T>(T left, T right, out T merged, out double cost);

    /// <summary>Merges <paramref name="symbols"/> in place until no adjacent pair merges.</summary>
    public static void Run<T>(List<T> symbols, TryMerge<T> tryMerge)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        ArgumentNullException.ThrowIfNull(tryMerge);
        int n = symbols.Count;
        if (n < 2) return;
        var items = symbols.ToArray();
        var next = new int[n];
        var prev = new int[n];
        var version = new int[n];
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        var heap = new PriorityQueue<(int Left, int Right, T Merged, int LeftVersion, int RightVersion), (double, int)>(n);
        void Offer(int left)
        {
            if (left < 0) return;
            int right = next[left];
            if (right < 0) return;
            if (tryMerge(items[left], items[right], out var merged, out var cost))
                heap.Enqueue((left, right, merged, version[left], version[right]), (cost, left));
        }
        for (int i = 0; i < n - 1; i++) Offer(i);
        while (heap.TryDequeue(out var pair, out _))
        {
            // Stale: one side was merged away or changed since this pair was offered.
            if (version[pair.Left] != pair.LeftVersion || version[pair.Right] != pair.RightVersion || next[pair.Left] != pair.Right) continue;
            items[pair.Left] = pair.Merged;
            version[pair.Left]++;
            version[pair.Right] = int.MinValue; // removed for good
            int after = next[pair.Right];
            next[pair.Left] = after;
            if (after >= 0) prev[after] = pair.Left;
            Offer(prev[pair.Left]);
            Offer(pair.Left);
        }
        symbols.Clear();
        for (int i = 0; i >= 0; i = next[i]) symbols.Add(items[i]);
    }
}
