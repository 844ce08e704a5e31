using PdRdma.Transport;
using PdRdma.Transport.Cuda;

namespace PdRdma.Engines.Kv;

/// <summary>
/// The host-staged KV hand-over of a pool in device memory: the node daemon (and its shm, tcp and verbs backends)
/// moves host memory, so a cuda pool gets a host mirror of the same layout, which is what the daemon maps. Prefill
/// copies the blocks of a layer out of the device before that layer's push (<see cref="StageOut"/>); decode copies
/// the blocks it granted into the device once the KV arrived (<see cref="StageIn"/>). Every block and layer is
/// checked before the first byte moves. One per pool; calls for different requests may run at once (disjoint blocks).
/// </summary>
public sealed class KvStaging : IDisposable
{
    private readonly HostStaging _staging;
    private readonly Action _synchronize;
    private readonly IDisposable? _pin;

    private KvStaging(HostStaging staging, KvLayout layout, Action synchronize, IDisposable? pin, string? pinError)
    {
        _staging = staging;
        Layout = layout;
        _synchronize = synchronize;
        _pin = pin;
        PinError = pinError;
    }

    /// <summary>Whether the mirror is page-locked for the device (cuda: copies at full speed).</summary>
    public bool Pinned => _pin is not null;

    /// <summary>Why a cuda pool's mirror is not page-locked; null when it is, or for other pools.</summary>
    public string? PinError { get; }

    /// <summary>The pool's layout.</summary>
    public KvLayout Layout { get; }

    /// <summary>The host mirror the daemon maps (<see cref="IMemoryRegion.SharedPath"/>).</summary>
    public HostRegion Mirror => _staging.Host;

    /// <summary>
    /// Null for a pool in host memory (the daemon maps it directly) unless <paramref name="stageHostPool"/> (then a
    /// host pool is staged like a device pool: the path exercised without a GPU). For device memory, a mirror; a device
    /// region the CPU cannot copy (no <see cref="IDeviceMemory"/>) or a layout larger than the pool is refused, typed.
    /// </summary>
    public static KvStaging? For(IMemoryRegion pool, KvLayout layout, bool stageHostPool = false, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(layout);
        if (pool.Kind == MemoryKind.Host && pool is not IDeviceMemory)
        {
            if (!stageHostPool) return null;
            if (pool is not HostRegion host) throw new TransferException(TransferErrorCode.Unsupported, $"KV pool '{pool.Id}' is host memory without a host region: it cannot be staged");
            pool = host.AsDeviceMemory();
        }
        if (pool is not IDeviceMemory device)
        {
            throw new TransferException(TransferErrorCode.Unsupported,
                $"KV pool '{pool.Id}' is {pool.Kind} memory without copies to the host: it cannot be staged for the node daemon; serve it with --role colocated");
        }
        if (layout.TotalBytes > pool.Length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"KV layout of {layout.TotalBytes} bytes does not fit pool '{pool.Id}' of {pool.Length} bytes");
        }
        var staging = HostStaging.Create(device, directory);
        if (device is not CudaDeviceRegion cuda) return new KvStaging(staging, layout, static () => { }, null, null);
        try
        {
            var pin = cuda.TryPinHost(staging.Host, out var pinError);
            return new KvStaging(staging, layout, cuda.Synchronize, pin, pinError);
        }
        catch
        {
            staging.Dispose();
            throw;
        }
    }

    /// <summary>Prefill: device → mirror for K and V of <paramref name="blocks"/> in <paramref name="layers"/> (after the device finished them).</summary>
    public void StageOut(IReadOnlyList<int> layers, IReadOnlyList<int> blocks)
    {
        var extents = Extents(layers, blocks);
        _synchronize();
        _staging.StageOut(extents);
    }

    /// <summary>Decode: mirror → device for K and V of <paramref name="blocks"/> in every layer.</summary>
    public void StageIn(IReadOnlyList<int> blocks) => _staging.StageIn(Extents(Enumerable.Range(0, Layout.Layers).ToArray(), blocks));

    private List<ByteExtent> Extents(IReadOnlyList<int> layers, IReadOnlyList<int> blocks)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(blocks);
        var extents = new List<ByteExtent>(layers.Count * blocks.Count * 2);
        foreach (int layer in layers)
        {
            if ((uint)layer >= (uint)Layout.Layers) throw new TransferException(TransferErrorCode.OutOfBounds, $"layer {layer} is outside the pool's {Layout.Layers} layers");
            foreach (int block in blocks)
            {
                if ((uint)block >= (uint)Layout.Blocks) throw new TransferException(TransferErrorCode.OutOfBounds, $"block {block} is outside the pool's {Layout.Blocks} blocks");
                extents.Add(Layout.Extent(layer, KvPart.Key, block));
                extents.Add(Layout.Extent(layer, KvPart.Value, block));
            }
        }
        return extents;
    }

    /// <summary>Removes the mirror; the pool is its owner's.</summary>
    public void Dispose()
    {
        _pin?.Dispose();
        _staging.Dispose();
    }
}
