using Microsoft.Win32.SafeHandles;
using PdRdma.Interop.LevelZero;
using PdRdma.Interop.LevelZero.Handles;
using PdRdma.Interop.LevelZero.Native;
using PdRdma.Transport.LevelZero.Internal;

namespace PdRdma.Transport.LevelZero;

/// <summary>
/// Level Zero device memory registered as a transfer region (<see cref="MemoryKind.LevelZeroDevice"/>): allocated
/// here, mapped from another process's IPC descriptor (same device: the same-XPU split), or imported from a dma-buf
/// (another vendor's device memory). <see cref="IMemoryRegion.Address"/> is the device pointer: never dereference it
/// on the host; move bytes with <see cref="Read"/>, <see cref="Write"/> and <see cref="CopyFrom"/>, which complete
/// before they return. Callers serialise writers to overlapping ranges.
/// </summary>
public sealed class LevelZeroDeviceRegion : IDeviceMemory
{
    private readonly LevelZeroDevice _device;
    private readonly ZeHandle _memory;

    private LevelZeroDeviceRegion(string id, LevelZeroDevice device, ZeHandle memory, long length, XpuRegionOrigin origin)
    {
        Id = id;
        _device = device;
        _memory = memory;
        Length = length;
        Origin = origin;
    }

    public string Id { get; }

    public MemoryKind Kind => MemoryKind.LevelZeroDevice;

    public long Length { get; }

    internal nint Address => _memory.DangerousGetHandle();

    nint IMemoryRegion.Address => Address;

    public string? SharedPath => null;

    /// <summary>Whether this process allocated the memory, mapped a peer's, or imported a dma-buf.</summary>
    public XpuRegionOrigin Origin { get; }

    public LevelZeroDevice Device => _device;

    /// <summary>Allocates <paramref name="length"/> bytes of device memory (exportable as a dma-buf where the driver can), zero-filled.</summary>
    public static LevelZeroDeviceRegion Allocate(LevelZeroDevice device, string id, long length)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var result = Ze.MemAllocDevice(device.Context, device.DeviceHandle, (nuint)length, exportable: true, importFd: -1, out var memory);
        if (result == ze_result_t.ZE_RESULT_ERROR_UNSUPPORTED_FEATURE)
        {
            // A driver without dma-buf export still allocates; sharing then falls back to IPC or host staging.
            memory.Dispose();
            result = Ze.MemAllocDevice(device.Context, device.DeviceHandle, (nuint)length, exportable: false, importFd: -1, out memory);
        }
        LevelZeroErrors.Check(result, $"zeMemAllocDevice({length})", device.ToString());
        var region = new LevelZeroDeviceRegion(id, device, memory, length, XpuRegionOrigin.Allocated);
        try
        {
            device.Fill(region.Address, 0, length);
            return region;
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Maps another process's allocation from the descriptor of its <see cref="ExportIpc"/> (received over SCM_RIGHTS).
    /// The mapping must hold at least <paramref name="length"/> bytes, else OutOfBounds. The descriptor stays the caller's.
    /// </summary>
    public static LevelZeroDeviceRegion OpenIpc(LevelZeroDevice device, string id, SafeFileHandle descriptor, long length)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var label = device.ToString();
        LevelZeroErrors.Check(Ze.MemGetIpcHandleFromFileDescriptor(device.Context, (ulong)descriptor.DangerousGetHandle(), out var handle),
            "zeMemGetIpcHandleFromFileDescriptorExp", label);
        LevelZeroErrors.Check(Ze.MemOpenIpcHandle(device.Context, device.DeviceHandle, handle, out var mapping), "zeMemOpenIpcHandle", label);
        return Checked(new LevelZeroDeviceRegion(id, device, mapping, length, XpuRegionOrigin.IpcMapping));
    }

    /// <summary>Imports a dma-buf (another device's memory) as device memory of <paramref name="device"/>. The descriptor stays the caller's.</summary>
    public static LevelZeroDeviceRegion ImportDmaBuf(LevelZeroDevice device, string id, SafeFileHandle descriptor, long length)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        LevelZeroErrors.Check(Ze.MemAllocDevice(device.Context, device.DeviceHandle, (nuint)length, exportable: false, (int)descriptor.DangerousGetHandle(), out var memory),
            "zeMemAllocDevice(import dma-buf)", device.ToString());
        return Checked(new LevelZeroDeviceRegion(id, device, memory, length, XpuRegionOrigin.DmaBufImport));
    }

    /// <summary>
    /// A descriptor another process on this host passes to <see cref="OpenIpc"/> after receiving it over a Unix socket
    /// (SCM_RIGHTS). The caller owns it; the driver's IPC handle is returned before this returns.
    /// </summary>
    public SafeFileHandle ExportIpc()
    {
        var label = _device.ToString();
        LevelZeroErrors.Check(Ze.MemGetIpcHandle(_device.Context, Address, out var handle), "zeMemGetIpcHandle", label);
        try
        {
            LevelZeroErrors.Check(Ze.MemGetFileDescriptorFromIpcHandle(_device.Context, handle, out var fd), "zeMemGetFileDescriptorFromIpcHandleExp", label);
            // The descriptor inside the handle dies with zeMemPutIpcHandle; the caller gets its own.
            using var borrowed = new SafeFileHandle((nint)fd, ownsHandle: false);
            return Duplicate(borrowed);
        }
        finally
        {
            Ze.MemPutIpcHandle(_device.Context, handle);
        }
    }

    /// <summary>A dma-buf descriptor of the region (input of ibv_reg_dmabuf_mr, or of another device's import). The caller owns it.</summary>
    public SafeFileHandle ExportDmaBuf()
    {
        LevelZeroErrors.Check(Ze.MemExportDmaBuf(_device.Context, Address, out var fd), "zeMemGetAllocProperties(export dma-buf)", _device.ToString());
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Copies host bytes into [offset, offset+source.Length).</summary>
    public unsafe void Write(long offset, ReadOnlySpan<byte> source)
    {
        CheckBounds(offset, source.Length);
        fixed (byte* p = source) _device.Copy(Address + (nint)offset, (nint)p, source.Length);
    }

    /// <summary>Copies [offset, offset+destination.Length) into host memory.</summary>
    public unsafe void Read(long offset, Span<byte> destination)
    {
        CheckBounds(offset, destination.Length);
        fixed (byte* p = destination) _device.Copy((nint)p, Address + (nint)offset, destination.Length);
    }

    /// <summary>Device-to-device copy from another region of the same context (allocated, IPC-mapped or imported).</summary>
    public void CopyFrom(LevelZeroDeviceRegion source, long sourceOffset, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(source);
        source.CheckBounds(sourceOffset, length);
        CheckBounds(offset, length);
        _device.Copy(Address + (nint)offset, source.Address + (nint)sourceOffset, length);
    }

    /// <summary>Copies between this device region and a host region (the staging path), either direction.</summary>
    public void CopyToHost(long offset, HostRegion host, long hostOffset, long length)
    {
        ArgumentNullException.ThrowIfNull(host);
        CheckBounds(offset, length);
        HostBounds(host, hostOffset, length);
        _device.Copy(host.Address + (nint)hostOffset, Address + (nint)offset, length);
    }

    /// <inheritdoc cref="CopyToHost"/>
    public void CopyFromHost(HostRegion host, long hostOffset, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(host);
        CheckBounds(offset, length);
        HostBounds(host, hostOffset, length);
        _device.Copy(Address + (nint)offset, host.Address + (nint)hostOffset, length);
    }

    public void Dispose() => _memory.Dispose();

    private static LevelZeroDeviceRegion Checked(LevelZeroDeviceRegion region)
    {
        try
        {
            var result = Ze.MemGetAddressRange(region._device.Context, region.Address, out var basePointer, out var size);
            LevelZeroErrors.Check(result, "zeMemGetAddressRange", region._device.ToString());
            if ((long)size - (region.Address - basePointer) < region.Length)
            {
                throw new TransferException(TransferErrorCode.OutOfBounds,
                    $"region '{region.Id}': the mapped allocation holds {size} bytes, {region.Length} were announced");
            }
            return region;
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    private SafeFileHandle Duplicate(SafeFileHandle fd) =>
        Interop.Libc.Descriptors.Duplicate(fd)
        ?? throw new TransferException(TransferErrorCode.DeviceUnavailable,
            $"dup of the IPC descriptor of region '{Id}' failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");

    private void CheckBounds(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside XPU region '{Id}' of {Length} bytes");
        }
    }

    private static void HostBounds(HostRegion host, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > host.Length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside host region '{host.Id}' of {host.Length} bytes");
        }
    }
}
