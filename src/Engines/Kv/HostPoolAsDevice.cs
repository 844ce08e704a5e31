using Microsoft.Win32.SafeHandles;
using PdRdma.Transport;

namespace PdRdma.Engines.Kv;

/// <summary>
/// A host KV pool seen through the device-memory calls, so that <see cref="KvStaging"/> can stage it like a GPU pool
/// (ServeOptions.StageKv: the staged hand-over exercised and compared on a machine without a GPU). Kind stays Host.
/// </summary>
internal sealed class HostPoolAsDevice(HostRegion pool) : IDeviceMemory
{
    public string Id => pool.Id;

    public MemoryKind Kind => MemoryKind.Host;

    public long Length => pool.Length;

    public nint Address => pool.Address;

    public string? SharedPath => null;

    public void Read(long offset, Span<byte> destination) => pool.AsSpan(offset, destination.Length).CopyTo(destination);

    public void Write(long offset, ReadOnlySpan<byte> source) => source.CopyTo(pool.AsSpan(offset, source.Length));

    public SafeFileHandle ExportDmaBuf() => throw new TransferException(TransferErrorCode.Unsupported, $"host pool '{pool.Id}' has no dma-buf");

    /// <summary>The pool is its model's: nothing to free here.</summary>
    public void Dispose()
    {
    }
}
