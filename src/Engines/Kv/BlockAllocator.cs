using PdRdma.Transport;

namespace PdRdma.Engines.Kv;

/// <summary>
/// Hands out block ids of a pool, lowest free id first so runs are reproducible. Thread-safe.
/// </summary>
public sealed class BlockAllocator
{
    private readonly SortedSet<int> _free;
    private readonly string _poolName;
    private readonly object _gate = new();

    public BlockAllocator(int blocks, string poolName)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blocks);
        Capacity = blocks;
        _poolName = poolName;
        _free = new SortedSet<int>(Enumerable.Range(0, blocks));
    }

    public int Capacity { get; }

    public int FreeCount
    {
        get { lock (_gate) return _free.Count; }
    }

    /// <summary>Takes <paramref name="count"/> blocks or none: throws TransferException(PoolFull) when too few are free.</summary>
    public int[] Allocate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            if (count > _free.Count)
            {
                throw new TransferException(TransferErrorCode.PoolFull, $"KV pool '{_poolName}' has {_free.Count} of {Capacity} blocks free, {count} requested");
            }
            var ids = new int[count];
            for (int i = 0; i < count; i++)
            {
                ids[i] = _free.Min;
                _free.Remove(ids[i]);
            }
            return ids;
        }
    }

    /// <summary>Returns blocks to the pool; returning a block that is already free is a bug and throws.</summary>
    public void Free(IEnumerable<int> ids)
    {
        lock (_gate)
        {
            foreach (var id in ids)
            {
                if ((uint)id >= (uint)Capacity) throw new ArgumentOutOfRangeException(nameof(ids), id, $"block id outside pool '{_poolName}'");
                if (!_free.Add(id)) throw new InvalidOperationException($"block {id} of pool '{_poolName}' freed twice");
            }
        }
    }
}
