using PdRdma.Engines.Model;
using PdRdma.Transport;
using TorchSharp;
using static TorchSharp.torch;

namespace PdRdma.Engines.Kv;

/// <summary>
/// A paged KV cache: one tensor [layers, 2, blocks, tokens_per_block, kv_heads, head_dim] whose storage is a
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
        using (var flat = torch.from_file(region.SharedPath!, shared: true, size: elements, dtype: ScalarType))
        {
            Tensor = flat.view(layout.Layers, 2, layout.Blocks, layout.TokensPerBlock, layout.KvHeads, layout.HeadDim);
        }
        _slots = new Tensor[layout.Layers * 2];
        for (int l = 0; l < layout.Layers; l++)
        {
            for (int p = 0; p < 2; p++)
            {
                _slots[l * 2 + p] = Tensor[l, p].view(layout.Blocks * layout.TokensPerBlock, layout.KvHeads, layout.HeadDim);
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

    /// <summary>View [blocks * tokens_per_block, kv_heads, head_dim] of one layer's keys or values.</summary>
    internal Tensor Slots(int layer, KvPart part) => _slots[layer * 2 + (int)part];

    public void Dispose()
    {
        EngineMetrics.Untrack(this);
        foreach (var s in _slots) s.Dispose();
        Tensor.Dispose();
        Region.Dispose();
    }
}
