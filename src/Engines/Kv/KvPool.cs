using PdRdma.Engines.Model;
using PdRdma.Transport;
using TorchSharp;
using static TorchSharp.torch;

namespace PdRdma.Engines.Kv;

/// <summary>
/// A paged KV cache: one tensor seen as [layers, 2, blocks, tokens_per_block, kv_heads, head_dim] (stored in the
/// layout's block and token order: other orders are permuted views of the same bytes) whose storage is a
/// <see cref="HostRegion"/> file mapped MAP_SHARED, so the transfer library and other processes see the tensor's
/// bytes at <see cref="Layout"/>'s extents. Owns the region and the tensor. The allocator is thread-safe; writes
/// into the tensor are coordinated by the engine that owns the pool.
/// </summary>
public sealed class KvPool : IDisposable
{
    private readonly Tensor[] _slots;

    private KvPool(KvLayout layout, HostRegion region, string name)
    {
        Layout = layout;
        Region = region;
        Name = name;
        ScalarType = TensorFactory.ToScalarType(layout.DType);
        long elements = layout.TotalBytes / layout.ElementSize;
        int l = layout.Layers, b = layout.Blocks, t = layout.TokensPerBlock, h = layout.KvHeads, d = layout.HeadDim;
        using (var flat = torch.from_file(region.SharedPath!, shared: true, size: elements, dtype: ScalarType))
        {
            // The tensor is always seen as [layers, 2, blocks, tokens, heads, dim]; other storage orders are permuted views.
            (long[] physical, long[] permutation) = (layout.BlockOrder, layout.TokenOrder) switch
            {
                (KvBlockOrder.LayerMajor, KvTokenOrder.TokenMajor) => (new long[] { l, 2, b, t, h, d }, new long[] { 0, 1, 2, 3, 4, 5 }),
                (KvBlockOrder.LayerMajor, KvTokenOrder.HeadMajor) => ([l, 2, b, h, t, d], [0, 1, 2, 4, 3, 5]),
                (KvBlockOrder.BlockMajor, KvTokenOrder.TokenMajor) => ([b, l, 2, t, h, d], [1, 2, 0, 3, 4, 5]),
                _ => ([b, l, 2, h, t, d], [1, 2, 0, 4, 3, 5]),
            };
            using var stored = flat.view(physical);
            Tensor = stored.permute(permutation);
        }
        FlatSlots = layout.BlockOrder == KvBlockOrder.LayerMajor && layout.TokenOrder == KvTokenOrder.TokenMajor;
        _slots = new Tensor[layout.Layers * 2];
        for (int layer = 0; layer < l; layer++)
        {
            for (int p = 0; p < 2; p++)
            {
                // Flat: one [blocks * tokens, heads, dim] view indexed by slot; otherwise a strided [blocks, tokens, heads, dim] view.
                _slots[layer * 2 + p] = FlatSlots ? Tensor[layer, p].view(b * t, h, d) : Tensor[layer, p];
            }
        }
        Allocator = new BlockAllocator(layout.Blocks, name);
        EngineMetrics.Track(this);
    }

    public string Name { get; }

    public KvLayout Layout { get; }

    /// <summary>The shared-memory region holding the tensor; register it with a TransferAgent.</summary>
    public HostRegion Region { get; }

    /// <summary>The pool tensor [layers, 2, blocks, tokens_per_block, kv_heads, head_dim] on the CPU.</summary>
    public Tensor Tensor { get; }

    public ScalarType ScalarType { get; }

    public BlockAllocator Allocator { get; }

    /// <summary>Creates a zeroed region of <see cref="KvLayout.TotalBytes"/> named <paramref name="name"/> and maps the tensor on it.</summary>
    public static KvPool Create(KvLayout layout, string name, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var region = HostRegion.Create(name, layout.TotalBytes, directory);
        try
        {
            return new KvPool(layout, region, name);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>True for the engine's native order (layer-major, token-major), where a slot is a row of one flat view.</summary>
    internal bool FlatSlots { get; }

    /// <summary>Writes <paramref name="rows"/> [n, kv_heads, head_dim] into the slots (block * tokens_per_block + offset) given.</summary>
    internal void WriteSlots(int layer, KvPart part, Tensor slots, Tensor rows)
    {
        var view = _slots[layer * 2 + (int)part];
        if (FlatSlots)
        {
            view.index_copy_(0, slots, rows.to(ScalarType, view.device));
            return;
        }
        var (block, offset) = Split(slots);
        view.index_put_(rows.to(ScalarType, view.device), block, offset);
    }

    /// <summary>The rows [n, kv_heads, head_dim] held in the slots given.</summary>
    internal Tensor ReadSlots(int layer, KvPart part, Tensor slots)
    {
        var view = _slots[layer * 2 + (int)part];
        if (FlatSlots) return view.index_select(0, slots);
        var (block, offset) = Split(slots);
        return view.index(block, offset);
    }

    private (Tensor Block, Tensor Offset) Split(Tensor slots)
    {
        // Slot index tensors are small and on the CPU: split them here rather than in a float division.
        var all = slots.data<long>().ToArray();
        int t = Layout.TokensPerBlock;
        return (torch.tensor(all.Select(s => s / t).ToArray()), torch.tensor(all.Select(s => s % t).ToArray()));
    }

    public void Dispose()
    {
        EngineMetrics.Untrack(this);
        foreach (var s in _slots) s.Dispose();
        Tensor.Dispose();
        Region.Dispose();
    }
}
