namespace PdRdma.Engines.Kv;

/// <summary>
/// The blocks that hold one sequence's KV, in position order: position p lives in block Blocks[p / tokensPerBlock]
/// at offset p % tokensPerBlock. Owned by one sequence; not thread-safe.
/// </summary>
public sealed class BlockTable
{
    private readonly List<int> _blocks;

    public BlockTable(int tokensPerBlock, IEnumerable<int>? blocks = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokensPerBlock);
        TokensPerBlock = tokensPerBlock;
        _blocks = blocks is null ? [] : [.. blocks];
    }

    public int TokensPerBlock { get; }

    public IReadOnlyList<int> Blocks => _blocks;

    /// <summary>Positions the table can hold.</summary>
    public int Capacity => _blocks.Count * TokensPerBlock;

    public static int BlocksFor(int positions, int tokensPerBlock) => (positions + tokensPerBlock - 1) / tokensPerBlock;

    /// <summary>Row of position <paramref name="pos"/> in the pool's [blocks * tokens_per_block] slot axis.</summary>
    public long SlotOf(int pos)
    {
        if ((uint)pos >= (uint)Capacity) throw new ArgumentOutOfRangeException(nameof(pos), pos, $"block table holds {Capacity} positions");
        return (long)_blocks[pos / TokensPerBlock] * TokensPerBlock + pos % TokensPerBlock;
    }

    /// <summary>Allocates blocks until the table holds <paramref name="positions"/> positions.</summary>
    public void EnsureCapacity(int positions, BlockAllocator allocator)
    {
        int missing = BlocksFor(positions, TokensPerBlock) - _blocks.Count;
        if (missing > 0) _blocks.AddRange(allocator.Allocate(missing));
    }

    /// <summary>Gives every block back and empties the table.</summary>
    public void Release(BlockAllocator allocator)
    {
        allocator.Free(_blocks);
        _blocks.Clear();
    }
}
