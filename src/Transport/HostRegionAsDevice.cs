using Microsoft.Win32.SafeHandles;
namespace PdRdma.Transport;

/// <summary>
/// A host region seen through the device-memory calls, so that the engines' KV staging can stage it like a GPU pool
/// (serve --stage-kv: the staged hand-over exercised and compared on a machine without a GPU). Kind stays Host.
/// Made by <see cref="HostRegion.AsDeviceMemory"/>.
/// </summary>
internal sealed class HostRegionAsDevice(HostRegion pool) : IDeviceMemory
{
    public string Id => pool.Id;

    public MemoryKind Kind => MemoryKind.Host;

    public long Length => pool.Length;

    nint IMemoryRegion.Address => ((IMemoryRegion)pool).Address;

    public string? SharedPath => null;

    public void Read(long offset, Span<byte> destination) => pool.AsSpan(offset, destination.Length).CopyTo(destination);

    public void Write(long offset, ReadOnlySpan<byte> source) => source.CopyTo(pool.AsSpan(offset, source.Length));

    public SafeFileHandle ExportDmaBuf() => throw new TransferException(TransferErrorCode.Unsupported, $"host pool '{pool.Id}' has no dma-buf");

    /// <summary>The pool is its model's: nothing to free here.</summary>
    public void Dispose()
    {
    }
}
