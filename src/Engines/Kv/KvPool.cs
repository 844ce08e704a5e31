using PdRdma.Engines.Model;
using PdRdma.Transport;
using PdRdma.Transport.Cuda;
using PdRdma.Interop.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace PdRdma.Engines.Kv;

/// <summary>
/// A paged KV cache: one tensor seen as [layers, 2, blocks, tokens_per_block, kv_heads, head_dim] (stored in the
/// layout's block and token order: other orders are permuted views of the same bytes) whose bytes are a memory
/// region the transfer library can address at <see cref="Layout"/>'s extents. On the CPU the storage is a
/// <see cref="HostRegion"/> file mapped MAP_SHARED (other processes map the same pages); on a CUDA device it is a
/// device allocation of libtorch described by a <see cref="CudaDeviceRegion"/> (other processes on the host open it
/// through its IPC handle). Owns the region and the tensor. The allocator is thread-safe; writes into the tensor are
/// coordinated by the engine that owns the pool.
/// </summary>
public sealed class KvPool : IDisposable
{
    private readonly Tensor[] _slots;
    private readonly HostRegion? _host;
    private readonly CudaDevice? _cuda;

    private KvPool(KvLayout layout, string name, EngineDevice device, HostRegion? host, Tensor tensor, CudaDevice? cuda, CudaDeviceRegion? deviceRegion)
    {
        Layout = layout;
        Name = name;
        Device = device;
        ScalarType = TensorFactory.ToScalarType(layout.DType);
        _host = host;
        _cuda = cuda;
        DeviceRegion = deviceRegion;
        MemoryRegion = (IMemoryRegion?)host ?? deviceRegion ?? throw new ArgumentException("a pool needs a host or a device region");
        Tensor = tensor;
        FlatSlots = layout.BlockOrder == KvBlockOrder.LayerMajor && layout.TokenOrder == KvTokenOrder.TokenMajor;
        _slots = new Tensor[layout.Layers * 2];
        for (int layer = 0; layer < layout.Layers; layer++)
        {
            for (int p = 0; p < 2; p++)
            {
                // Flat: one [blocks * tokens, heads, dim] view indexed by slot; otherwise a strided [blocks, tokens, heads, dim] view.
                _slots[layer * 2 + p] = FlatSlots ? Tensor[layer, p].view(layout.Blocks * layout.TokensPerBlock, layout.KvHeads, layout.HeadDim) : Tensor[layer, p];
            }
        }
        Allocator = new BlockAllocator(layout.Blocks, name);
        EngineMetrics.Track(this);
    }

    public string Name { get; }

    public KvLayout Layout { get; }

    /// <summary>Where the pool's memory is.</summary>
    public EngineDevice Device { get; }

    /// <summary>
    /// The shared-memory region holding a CPU pool's tensor; register it with a TransferAgent. A device pool has none:
    /// InvalidOperationException (use <see cref="MemoryRegion"/> or <see cref="DeviceRegion"/>).
    /// </summary>
    public HostRegion Region => _host ?? throw new InvalidOperationException($"KV pool '{Name}' is on {Device}: it has no host region (use MemoryRegion)");

    /// <summary>The region holding the tensor's bytes, host or device: what the transfer library registers.</summary>
    public IMemoryRegion MemoryRegion { get; }

    /// <summary>The device region of a pool on CUDA (its IPC handle opens it in another process), otherwise null.</summary>
    public CudaDeviceRegion? DeviceRegion { get; }

    /// <summary>The CUDA device (primary context) of a device pool, otherwise null.</summary>
    internal CudaDevice? CudaDevice => _cuda;

    /// <summary>The pool tensor seen as [layers, 2, blocks, tokens_per_block, kv_heads, head_dim] on <see cref="Device"/> (a permuted view for other storage orders).</summary>
    public Tensor Tensor { get; }

    public ScalarType ScalarType { get; }

    public BlockAllocator Allocator { get; }

    /// <summary>Creates a zeroed region of <see cref="KvLayout.TotalBytes"/> named <paramref name="name"/> and maps the tensor on it.</summary>
    public static KvPool Create(KvLayout layout, string name, string? directory = null) => Create(layout, name, EngineDevice.Cpu, directory);

    /// <summary>
    /// Creates a zeroed pool on <paramref name="device"/>: on the CPU a shared-memory file in <paramref name="directory"/>
    /// (the default one when null); on CUDA a libtorch allocation registered as a <see cref="CudaDeviceRegion"/>
    /// (<paramref name="directory"/> unused). Throws TransferException(DeviceUnavailable) when the device is not here.
    /// </summary>
    public static KvPool Create(KvLayout layout, string name, EngineDevice device, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var scalar = TensorFactory.ToScalarType(layout.DType);
        long elements = layout.TotalBytes / layout.ElementSize;
        var (shape, permutation) = StorageShape(layout);
        if (!device.IsCuda)
        {
            var region = HostRegion.Create(name, layout.TotalBytes, directory);
            try
            {
                Tensor tensor;
                using (var flat = torch.from_file(region.SharedPath!, shared: true, size: elements, dtype: scalar))
                {
                    using var stored = flat.view(shape);
                    tensor = stored.permute(permutation);
                }
                return new KvPool(layout, name, device, region, tensor, null, null);
            }
            catch
            {
                region.Dispose();
                throw;
            }
        }

        TorchRuntime.EnsureAvailable(device);
        var cuda = CudaDevice.Open(device.Index);
        Tensor? pool = null;
        try
        {
            pool = torch.zeros(shape, scalar, device.ToTorch());
            TorchRuntime.Synchronize(device);
            // Not pool.storage<byte>(): TorchSharp converts the tensor to uint8 first, and that copy's address is not the pool's.
            var pointer = checked((ulong)(long)LibTorchSharp.StorageDataPointer(pool.Handle) + (ulong)(pool.storage_offset() * layout.ElementSize));
            var region = CudaDeviceRegion.Borrow(cuda, name, pointer, layout.TotalBytes);
            var seen = pool.permute(permutation);
            pool.Dispose();
            pool = seen;
            return new KvPool(layout, name, device, null, pool, cuda, region);
        }
        catch
        {
            pool?.Dispose();
            cuda.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The storage shape of <paramref name="layout"/>'s order, and the permutation that shows it as
    /// [layers, 2, blocks, tokens, heads, dim].
    /// </summary>
    private static (long[] Physical, long[] Permutation) StorageShape(KvLayout layout)
    {
        long l = layout.Layers, b = layout.Blocks, t = layout.TokensPerBlock, h = layout.KvHeads, d = layout.HeadDim;
        return (layout.BlockOrder, layout.TokenOrder) switch
        {
            (KvBlockOrder.LayerMajor, KvTokenOrder.TokenMajor) => ([l, 2, b, t, h, d], [0, 1, 2, 3, 4, 5]),
            (KvBlockOrder.LayerMajor, KvTokenOrder.HeadMajor) => ([l, 2, b, h, t, d], [0, 1, 2, 4, 3, 5]),
            (KvBlockOrder.BlockMajor, KvTokenOrder.TokenMajor) => ([b, l, 2, t, h, d], [1, 2, 0, 3, 4, 5]),
            _ => ([b, l, 2, h, t, d], [1, 2, 0, 4, 3, 5]),
        };
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

    /// <summary>
    /// Copies byte extents of <paramref name="source"/>'s region into this pool's region (same device kind), once the
    /// work queued on the source's device is done. The KV hand-over of a split inside one process.
    /// </summary>
    public void CopyExtentsFrom(KvPool source, IEnumerable<(long SourceOffset, long TargetOffset, long Length)> extents)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(extents);
        if (source.Device.Kind != Device.Kind)
        {
            throw new TransferException(TransferErrorCode.Unsupported, $"KV copy from a pool on {source.Device} into one on {Device}: both pools must be on the same kind of device");
        }
        // The whole batch is checked before the first byte moves: a bad extent leaves the target untouched.
        var list = extents.ToList();
        foreach (var (s, t, n) in list)
        {
            if (s < 0 || t < 0 || n < 0 || n > int.MaxValue || s > source.MemoryRegion.Length - n || t > MemoryRegion.Length - n)
            {
                throw new TransferException(TransferErrorCode.OutOfBounds,
                    $"KV copy of {n} bytes from {s} in '{source.Name}' ({source.MemoryRegion.Length} bytes) to {t} in '{Name}' ({MemoryRegion.Length} bytes) is out of bounds");
            }
        }
        if (DeviceRegion is { } target)
        {
            TorchRuntime.Synchronize(source.Device);
            foreach (var (s, t, n) in list) target.CopyFrom(source.DeviceRegion!, s, t, n);
            return;
        }
        foreach (var (s, t, n) in list) source.Region.AsSpan(s, (int)n).CopyTo(Region.AsSpan(t, (int)n));
    }

    public void Dispose()
    {
        EngineMetrics.Untrack(this);
        foreach (var s in _slots) s.Dispose();
        DeviceRegion?.Dispose();
        Tensor.Dispose();
        _host?.Dispose();
        _cuda?.Dispose();
    }
}
