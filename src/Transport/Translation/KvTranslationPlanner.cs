namespace PdRdma.Transport.Translation;

/// <summary>
/// Plans the move of one sequence's KV (its first <c>positions</c> tokens) from a source pool to a target pool whose
/// layouts differ in block size, memory order, head split (tensor-parallel rank/degree) or dtype. Pure: reads only its
/// arguments. Every (layer, K|V, token, head) row of the heads both pools hold is mapped from its place in the source
/// blocks to its place in the target blocks; rows adjacent on both sides are coalesced, so identical layouts give one
/// copy per run of contiguous blocks and a differing order gives one copy per row. Rows of heads the target does not
/// hold are skipped (tensor parallelism: each source rank writes its heads into the target, each target rank takes its
/// heads from the source). Thread-safe.
/// </summary>
public static class KvTranslationPlanner
{
    /// <summary>
    /// The plan for <paramref name="positions"/> tokens held in <paramref name="sourceBlocks"/> (in position order) of a
    /// <paramref name="source"/> pool, written into <paramref name="targetBlocks"/> of a <paramref name="target"/> pool;
    /// only <paramref name="layer"/> when given (per-layer batches overlap with compute). LayoutMismatch when the pools
    /// hold different models; OutOfBounds when the blocks cannot hold the positions or name blocks outside a pool.
    /// </summary>
    public static KvTranslationPlan Plan(KvLayout source, IReadOnlyList<int> sourceBlocks, KvLayout target, IReadOnlyList<int> targetBlocks,
        int positions, int? layer = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(sourceBlocks);
        ArgumentNullException.ThrowIfNull(targetBlocks);
        source.EnsureTranslatableTo(target);
        ArgumentOutOfRangeException.ThrowIfNegative(positions);
        CheckBlocks(source, sourceBlocks, positions, "source");
        CheckBlocks(target, targetBlocks, positions, "target");
        if (layer is { } only && (uint)only >= (uint)source.Layers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), only, $"layer must be in [0, {source.Layers})");
        }

        int firstHead = Math.Max(source.FirstHead, target.FirstHead);
        int endHead = Math.Min(source.FirstHead + source.KvHeads, target.FirstHead + target.KvHeads);
        var convert = source.DType != target.DType;
        var copies = new Coalescer<KvCopy>((a, b) => a.SourceOffset + a.Length == b.SourceOffset && a.TargetOffset + a.Length == b.TargetOffset,
            (a, b) => a with { Length = a.Length + b.Length });
        var conversions = new Coalescer<KvConversion>(
            (a, b) => a.SourceOffset + a.Elements * source.ElementSize == b.SourceOffset && a.StagingOffset + a.Elements * target.ElementSize == b.StagingOffset,
            (a, b) => a with { Elements = a.Elements + b.Elements });
        long staging = 0;
        long sourceRow = (long)source.HeadDim * source.ElementSize, targetRow = (long)target.HeadDim * target.ElementSize;

        // rows: consecutive (token, head) rows starting at (position, head) that are adjacent on both sides.
        void Row(int l, KvPart part, int position, int head, int rows = 1)
        {
            long s = source.Extent(l, part, sourceBlocks[position / source.TokensPerBlock]).Offset
                + source.OffsetInBlock(position % source.TokensPerBlock, head - source.FirstHead);
            long t = target.Extent(l, part, targetBlocks[position / target.TokensPerBlock]).Offset
                + target.OffsetInBlock(position % target.TokensPerBlock, head - target.FirstHead);
            if (!convert)
            {
                copies.Add(new KvCopy(s, t, sourceRow * rows));
                return;
            }
            conversions.Add(new KvConversion(s, staging, (long)source.HeadDim * rows));
            copies.Add(new KvCopy(staging, t, targetRow * rows));
            staging += targetRow * rows;
        }

        // Both token-major and holding exactly the same heads: the tokens of a block are adjacent on both sides, so a
        // run of tokens inside one source block and one target block is one row run (planning cost per block, not per row).
        bool tokenRuns = source.TokenOrder == KvTokenOrder.TokenMajor && target.TokenOrder == KvTokenOrder.TokenMajor
            && source.FirstHead == target.FirstHead && source.KvHeads == target.KvHeads;

        if (endHead > firstHead)
        {
            for (int l = layer ?? 0; l < (layer is null ? source.Layers : layer.Value + 1); l++)
            {
                foreach (var part in (ReadOnlySpan<KvPart>)[KvPart.Key, KvPart.Value])
                {
                    // Walk in the target's order so that rows adjacent in the target coalesce.
                    if (tokenRuns)
                    {
                        for (int p = 0; p < positions;)
                        {
                            int run = Math.Min(Math.Min(source.TokensPerBlock - p % source.TokensPerBlock, target.TokensPerBlock - p % target.TokensPerBlock), positions - p);
                            Row(l, part, p, firstHead, run * source.KvHeads);
                            p += run;
                        }
                    }
                    else if (target.TokenOrder == KvTokenOrder.TokenMajor)
                    {
                        for (int p = 0; p < positions; p++)
                            for (int h = firstHead; h < endHead; h++) Row(l, part, p, h);
                    }
                    else
                    {
                        // Head-major: a block's rows for one head are adjacent; walk block by block, head by head.
                        for (int start = 0; start < positions; start += target.TokensPerBlock)
                            for (int h = firstHead; h < endHead; h++)
                                for (int p = start; p < Math.Min(positions, start + target.TokensPerBlock); p++) Row(l, part, p, h);
                    }
                }
            }
        }
        return new KvTranslationPlan(source, target, copies.ToList(), conversions.ToList(), staging);
    }

    private static void CheckBlocks(KvLayout layout, IReadOnlyList<int> blocks, int positions, string side)
    {
        int needed = (positions + layout.TokensPerBlock - 1) / layout.TokensPerBlock;
        if (blocks.Count < needed)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"{positions} positions need {needed} {side} blocks of {layout.TokensPerBlock} tokens; {blocks.Count} given");
        }
        for (int i = 0; i < needed; i++)
        {
            if ((uint)blocks[i] >= (uint)layout.Blocks)
            {
                throw new TransferException(TransferErrorCode.OutOfBounds, $"{side} block {blocks[i]} is outside the pool of {layout.Blocks} blocks");
            }
        }
    }

    /// <summary>Appends items, merging each into the previous one when they are adjacent.</summary>
    private sealed class Coalescer<T>(Func<T, T, bool> adjacent, Func<T, T, T> merge)
        where T : struct
    {
        private readonly List<T> _items = [];

        public void Add(T item)
        {
            if (_items.Count > 0 && adjacent(_items[^1], item)) _items[^1] = merge(_items[^1], item);
            else _items.Add(item);
        }

        public List<T> ToList() => _items;
    }
}
