using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PdRdma.Interop.Cuda;

namespace PdRdma.Transport.Cuda;

/// <summary>
/// Device memory registered as a transfer region: allocated here, or opened from another process's IPC
/// handle (same host, same device: the seed plan's step 1 on a GPU). <see cref="IMemoryRegion.Address"/>
/// is the CUdeviceptr. Copies are synchronous on the legacy stream; callers serialise writers.
/// </summary>
public sealed unsafe class CudaDeviceRegion : IDeviceMemory
{
    private readonly CudaDevice _device;
    private readonly SafeHandle? _memory;

    private CudaDeviceRegion(string id, CudaDevice device, SafeHandle? memory, ulong pointer, long length)
    {
        Id = id;
        _device = device;
        _memory = memory;
        DevicePointer = pointer;
        Length = length;
    }

    public string Id { get; }

    public MemoryKind Kind => MemoryKind.CudaDevice;

    public long Length { get; }

    internal nint Address => (nint)DevicePointer;

    nint IMemoryRegion.Address => Address;

    public string? SharedPath => null;

    internal ulong DevicePointer { get; }

    /// <summary>Allocates <paramref name="length"/> bytes of device memory, zero-filled.</summary>
    public static CudaDeviceRegion Allocate(CudaDevice device, string id, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        device.MakeCurrent();
        CudaDevice.Check(CudaDriver.MemAlloc(out var pointer, (nuint)length), $"cuMemAlloc({length})");
        var handle = new CudaDeviceMemoryHandle(pointer);
        CudaDevice.Check(CudaDriver.MemsetD8(pointer, 0, (nuint)length), "cuMemsetD8");
        return new CudaDeviceRegion(id, device, handle, pointer, length);
    }

    /// <summary>
    /// Describes <paramref name="length"/> bytes of device memory at <paramref name="pointer"/> that another owner
    /// allocated (libtorch's caching allocator, for a KV pool tensor). The region does not free it: the owner must
    /// outlive the region. Checks that the range lies inside one allocation of this device's context.
    /// </summary>
    public static CudaDeviceRegion Borrow(CudaDevice device, string id, ulong pointer, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        device.MakeCurrent();
        CudaDevice.Check(CudaDriver.MemGetAddressRange(out var basePointer, out var size, pointer), "cuMemGetAddressRange");
        if (pointer + (ulong)length > basePointer + size)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"CUDA region '{id}': {length} bytes at 0x{pointer:x} run past the allocation [0x{basePointer:x}, +{size})");
        }
        return new CudaDeviceRegion(id, device, null, pointer, length);
    }

    /// <summary>Maps another process's allocation from the 64 bytes of its <see cref="ExportIpcHandle()"/>.</summary>
    public static CudaDeviceRegion OpenIpc(CudaDevice device, string id, ReadOnlySpan<byte> ipcHandle, long length) =>
        OpenIpc(device, id, ipcHandle, 0, length);

    /// <summary>
    /// Maps another process's allocation from its IPC handle and describes <paramref name="length"/> bytes starting
    /// <paramref name="offset"/> bytes into it (see <see cref="ExportIpcHandle(out long)"/>). The mapping is closed on dispose.
    /// </summary>
    public static CudaDeviceRegion OpenIpc(CudaDevice device, string id, ReadOnlySpan<byte> ipcHandle, long offset, long length)
    {
        if (ipcHandle.Length != 64)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"a CUDA IPC handle is 64 bytes, got {ipcHandle.Length}");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        device.MakeCurrent();
        var handle = default(CudaIpcMemHandle);
        ipcHandle.CopyTo(handle);
        CudaDevice.Check(CudaDriver.IpcOpenMemHandle(out var pointer, handle, CudaDriver.IpcMemLazyEnablePeerAccess), "cuIpcOpenMemHandle");
        var mapping = new CudaIpcMappingHandle(pointer);
        try
        {
            CudaDevice.Check(CudaDriver.MemGetAddressRange(out var basePointer, out var size, pointer), "cuMemGetAddressRange");
            if ((ulong)offset + (ulong)length > basePointer + size - pointer)
            {
                throw new TransferException(TransferErrorCode.OutOfBounds, $"CUDA IPC region '{id}': [{offset}, +{length}) is outside the peer's allocation of {size} bytes");
            }
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
        return new CudaDeviceRegion(id, device, mapping, pointer + (ulong)offset, length);
    }

    /// <summary>The 64-byte handle another process on this host passes to <see cref="OpenIpc"/>.</summary>
    public byte[] ExportIpcHandle() => ExportIpcHandle(out _);

    /// <summary>
    /// The 64-byte IPC handle of the allocation holding this region and the region's offset inside it (non-zero for
    /// a borrowed region inside a larger allocation); the peer passes both to <see cref="OpenIpc(CudaDevice, string, ReadOnlySpan{byte}, long, long)"/>.
    /// </summary>
    public byte[] ExportIpcHandle(out long offset)
    {
        _device.MakeCurrent();
        CudaDevice.Check(CudaDriver.MemGetAddressRange(out var basePointer, out _, DevicePointer), "cuMemGetAddressRange");
        CudaDevice.Check(CudaDriver.IpcGetMemHandle(out var handle, basePointer), "cuIpcGetMemHandle");
        offset = (long)(DevicePointer - basePointer);
        return ((ReadOnlySpan<byte>)handle).ToArray();
    }

    /// <summary>
    /// A dma-buf file descriptor for the whole region, the key to <c>ibv_reg_dmabuf_mr</c> (GPUDirect RDMA
    /// without nvidia-peermem). The caller owns the descriptor.
    /// </summary>
    public SafeFileHandle ExportDmaBuf()
    {
        _device.MakeCurrent();
        CudaDevice.Check(CudaDriver.MemGetHandleForAddressRange(out var fd, DevicePointer, (nuint)Length, CudaDriver.MemRangeHandleTypeDmaBufFd, 0),
            "cuMemGetHandleForAddressRange(DMA_BUF_FD)");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Copies host bytes into [offset, offset+source.Length).</summary>
    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        CheckBounds(offset, source.Length);
        _device.MakeCurrent();
        fixed (byte* p = source)
        {
            CudaDevice.Check(CudaDriver.MemcpyHtoD(DevicePointer + (ulong)offset, p, (nuint)source.Length), "cuMemcpyHtoD");
        }
    }

    /// <summary>Copies [offset, offset+destination.Length) into host memory.</summary>
    public void Read(long offset, Span<byte> destination)
    {
        CheckBounds(offset, destination.Length);
        _device.MakeCurrent();
        fixed (byte* p = destination)
        {
            CudaDevice.Check(CudaDriver.MemcpyDtoH(p, DevicePointer + (ulong)offset, (nuint)destination.Length), "cuMemcpyDtoH");
        }
    }

    /// <summary>Device-to-device copy from another region on the same device (or an IPC mapping of it).</summary>
    public void CopyFrom(CudaDeviceRegion source, long sourceOffset, long offset, long length)
    {
        source.CheckBounds(sourceOffset, length);
        CheckBounds(offset, length);
        _device.MakeCurrent();
        CudaDevice.Check(CudaDriver.MemcpyDtoD(DevicePointer + (ulong)offset, source.DevicePointer + (ulong)sourceOffset, (nuint)length), "cuMemcpyDtoD");
        // A device-to-device copy returns before it completes; the caller's "written" must mean written.
        CudaDevice.Check(CudaDriver.CtxSynchronize(), "cuCtxSynchronize");
    }

    /// <summary>
    /// Page-locks <paramref name="host"/> for this region's device (cuMemHostRegister, portable), so copies between the
    /// two run at full speed (pageable memory gets a quarter of it); null with the driver's reason when refused.
    /// Dispose the returned handle before the host region.
    /// </summary>
    public SafeHandle? TryPinHost(IMemoryRegion host, out string? error)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (host.Kind != MemoryKind.Host) throw new TransferException(TransferErrorCode.Unsupported, $"region '{host.Id}' is {host.Kind} memory, not host memory");
        _device.MakeCurrent();
        var status = CudaDriver.MemHostRegister((void*)host.Address, (nuint)host.Length, CudaDriver.MemHostRegisterPortable);
        error = status == CudaResult.Success ? null : $"cuMemHostRegister({host.Length}) returned {status}";
        return status == CudaResult.Success ? new CudaHostRegistrationHandle(host.Address) : null;
    }

    /// <summary>Waits for all work queued on this region's device context (every stream: the engine's kernels included).</summary>
    public void Synchronize()
    {
        _device.MakeCurrent();
        CudaDevice.Check(CudaDriver.CtxSynchronize(), "cuCtxSynchronize");
    }

    private void CheckBounds(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside CUDA region '{Id}' of {Length} bytes");
        }
    }

    public void Dispose() => _memory?.Dispose();
}
