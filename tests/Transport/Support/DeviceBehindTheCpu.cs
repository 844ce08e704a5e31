using Microsoft.Win32.SafeHandles;
using PdRdma.Transport;

namespace PdRdma.Tests.Transport.Support;

/// <summary>
/// Device memory the CPU cannot read at its address: Address points at a decoy host region of other bytes, and
/// Read/Write reach the real ones (a host region), as cuMemcpy reaches a GPU's.
/// </summary>
internal sealed class DeviceBehindTheCpu(string id, long length) : IDeviceMemory
{
    private readonly HostRegion _memory = HostRegion.Create(id + "-" + Guid.NewGuid().ToString("N"), length);
    private readonly HostRegion _decoy = Decoy(length);

    public string Id => id;

    public MemoryKind Kind => MemoryKind.CudaDevice;

    public long Length => length;

    public nint Address => _decoy.Address;

    public string? SharedPath => null;

    public void Read(long offset, Span<byte> destination) => _memory.AsSpan(offset, destination.Length).CopyTo(destination);

    public void Write(long offset, ReadOnlySpan<byte> source) => source.CopyTo(_memory.AsSpan(offset, source.Length));

    public SafeFileHandle ExportDmaBuf() => throw new TransferException(TransferErrorCode.Unsupported, "no dma-buf");

    public void Dispose()
    {
        _memory.Dispose();
        _decoy.Dispose();
    }

    private static HostRegion Decoy(long length)
    {
        var decoy = HostRegion.Create("decoy-" + Guid.NewGuid().ToString("N"), length);
        decoy.AsSpan(0, (int)length).Fill(0x5A);
        return decoy;
    }
}
