using Microsoft.Win32.SafeHandles;
using PdRdma.Transport;

namespace PdRdma.Tests.Xpu;

/// <summary>
/// A region of another "device" whose driver cannot export a dma-buf (as CUDA without dma-buf support): real memory
/// (a host region) behind the IDeviceMemory calls, so the cross-vendor link must take the host-staged path.
/// </summary>
internal sealed class HostMemoryWithoutDmaBuf(string id, long length) : IDeviceMemory
{
    private readonly HostRegion _host = HostRegion.Create(id + "-" + Guid.NewGuid().ToString("N"), length);

    public string Id => id;

    public MemoryKind Kind => MemoryKind.CudaDevice;

    public long Length => length;

    nint IMemoryRegion.Address => _host.Address;

    public string? SharedPath => null;

    public void Read(long offset, Span<byte> destination) => _host.AsSpan(offset, destination.Length).CopyTo(destination);

    public void Write(long offset, ReadOnlySpan<byte> source) => source.CopyTo(_host.AsSpan(offset, source.Length));

    public SafeFileHandle ExportDmaBuf() => throw new TransferException(TransferErrorCode.Unsupported, "this device cannot export a dma-buf");

    public void Dispose() => _host.Dispose();
}
