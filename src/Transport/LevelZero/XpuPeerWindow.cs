using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace PdRdma.Transport.LevelZero;

/// <summary>
/// The peer's side of a shared XPU region: the owner's device memory itself (IPC mapping or dma-buf import), or the
/// owner's host staging region (the owner syncs it with its device). Reads and writes complete before they return;
/// not thread-safe. Owns its mapping.
/// </summary>
public sealed class XpuPeerWindow : IDisposable
{
    private readonly LevelZeroDeviceRegion? _device;
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;

    internal XpuPeerWindow(string regionId, long length, XpuSharePath path, LevelZeroDeviceRegion device)
    {
        RegionId = regionId;
        Length = length;
        Path = path;
        _device = device;
    }

    internal XpuPeerWindow(string regionId, long length, SafeFileHandle staging)
    {
        RegionId = regionId;
        Length = length;
        Path = XpuSharePath.HostStaged;
        _file = MemoryMappedFile.CreateFromFile(staging, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
    }

    public string RegionId { get; }

    public long Length { get; }

    public XpuSharePath Path { get; }

    /// <summary>The mapped device region on the device paths; null on the host-staged path.</summary>
    public LevelZeroDeviceRegion? DeviceRegion => _device;

    public void Read(long offset, Span<byte> destination)
    {
        CheckBounds(offset, destination.Length);
        if (_device is not null) _device.Read(offset, destination);
        else _view!.SafeMemoryMappedViewHandle.ReadSpan((ulong)(_view.PointerOffset + offset), destination);
    }

    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        CheckBounds(offset, source.Length);
        if (_device is not null) _device.Write(offset, source);
        else _view!.SafeMemoryMappedViewHandle.WriteSpan((ulong)(_view.PointerOffset + offset), source);
    }

    private void CheckBounds(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside shared region '{RegionId}' of {Length} bytes");
        }
    }

    public void Dispose()
    {
        _device?.Dispose();
        _view?.Dispose();
        _file?.Dispose();
    }
}
