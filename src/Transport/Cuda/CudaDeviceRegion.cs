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
    private readonly SafeHandle _memory;

    private CudaDeviceRegion(string id, CudaDevice device, SafeHandle memory, ulong pointer, long length)
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

    public nint Address => (nint)DevicePointer;

    public string? SharedPath => null;

    public ulong DevicePointer { get; }

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

    /// <summary>Maps another process's allocation from the 64 bytes of its <see cref="ExportIpcHandle"/>.</summary>
    public static CudaDeviceRegion OpenIpc(CudaDevice device, string id, ReadOnlySpan<byte> ipcHandle, long length)
    {
        if (ipcHandle.Length != 64)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"a CUDA IPC handle is 64 bytes, got {ipcHandle.Length}");
        }
        device.MakeCurrent();
        var handle = default(CudaIpcMemHandle);
        ipcHandle.CopyTo(handle);
        CudaDevice.Check(CudaDriver.IpcOpenMemHandle(out var pointer, handle, CudaDriver.IpcMemLazyEnablePeerAccess), "cuIpcOpenMemHandle");
        return new CudaDeviceRegion(id, device, new CudaIpcMappingHandle(pointer), pointer, length);
    }

    /// <summary>The 64-byte handle another process on this host passes to <see cref="OpenIpc"/>.</summary>
    public byte[] ExportIpcHandle()
    {
        _device.MakeCurrent();
        CudaDevice.Check(CudaDriver.IpcGetMemHandle(out var handle, DevicePointer), "cuIpcGetMemHandle");
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

    private void CheckBounds(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside CUDA region '{Id}' of {Length} bytes");
        }
    }

    public void Dispose() => _memory.Dispose();
}
