using System.Runtime.InteropServices;

namespace PdRdma.Interop.Cuda;

/// <summary>P/Invoke to the CUDA driver API (libcuda.so.1). Device pointers are CUdeviceptr (ulong).</summary>
public static unsafe partial class CudaDriver
{
    public const string Library = "libcuda.so.1";

    public const uint IpcMemLazyEnablePeerAccess = 1;
    public const uint MemHostRegisterPortable = 1;
    public const int MemRangeHandleTypeDmaBufFd = 1;

    [LibraryImport(Library, EntryPoint = "cuInit")]
    public static partial CudaResult Init(uint flags);

    [LibraryImport(Library, EntryPoint = "cuDeviceGetCount")]
    public static partial CudaResult DeviceGetCount(out int count);

    [LibraryImport(Library, EntryPoint = "cuDeviceGet")]
    public static partial CudaResult DeviceGet(out int device, int ordinal);

    [LibraryImport(Library, EntryPoint = "cuDeviceGetName")]
    public static partial CudaResult DeviceGetName(byte* name, int length, int device);

    [LibraryImport(Library, EntryPoint = "cuDevicePrimaryCtxRetain")]
    public static partial CudaResult DevicePrimaryCtxRetain(out nint context, int device);

    [LibraryImport(Library, EntryPoint = "cuDevicePrimaryCtxRelease_v2")]
    public static partial CudaResult DevicePrimaryCtxRelease(int device);

    [LibraryImport(Library, EntryPoint = "cuCtxSetCurrent")]
    public static partial CudaResult CtxSetCurrent(nint context);

    [LibraryImport(Library, EntryPoint = "cuCtxSynchronize")]
    public static partial CudaResult CtxSynchronize();

    [LibraryImport(Library, EntryPoint = "cuMemAlloc_v2")]
    public static partial CudaResult MemAlloc(out ulong devicePointer, nuint bytes);

    [LibraryImport(Library, EntryPoint = "cuMemFree_v2")]
    public static partial CudaResult MemFree(ulong devicePointer);

    [LibraryImport(Library, EntryPoint = "cuMemcpyHtoD_v2")]
    public static partial CudaResult MemcpyHtoD(ulong destination, void* source, nuint bytes);

    [LibraryImport(Library, EntryPoint = "cuMemcpyDtoH_v2")]
    public static partial CudaResult MemcpyDtoH(void* destination, ulong source, nuint bytes);

    [LibraryImport(Library, EntryPoint = "cuMemcpyDtoD_v2")]
    public static partial CudaResult MemcpyDtoD(ulong destination, ulong source, nuint bytes);

    [LibraryImport(Library, EntryPoint = "cuMemsetD8_v2")]
    public static partial CudaResult MemsetD8(ulong destination, byte value, nuint count);

    [LibraryImport(Library, EntryPoint = "cuMemHostRegister_v2")]
    public static partial CudaResult MemHostRegister(void* pointer, nuint bytes, uint flags);

    [LibraryImport(Library, EntryPoint = "cuMemHostUnregister")]
    public static partial CudaResult MemHostUnregister(void* pointer);

    [LibraryImport(Library, EntryPoint = "cuIpcGetMemHandle")]
    public static partial CudaResult IpcGetMemHandle(out CudaIpcMemHandle handle, ulong devicePointer);

    [LibraryImport(Library, EntryPoint = "cuIpcOpenMemHandle_v2")]
    public static partial CudaResult IpcOpenMemHandle(out ulong devicePointer, CudaIpcMemHandle handle, uint flags);

    [LibraryImport(Library, EntryPoint = "cuIpcCloseMemHandle")]
    public static partial CudaResult IpcCloseMemHandle(ulong devicePointer);

    [LibraryImport(Library, EntryPoint = "cuMemGetHandleForAddressRange")]
    public static partial CudaResult MemGetHandleForAddressRange(out int handle, ulong devicePointer, nuint bytes, int handleType, ulong flags);

    [LibraryImport(Library, EntryPoint = "cuMemGetAddressRange_v2")]
    public static partial CudaResult MemGetAddressRange(out ulong basePointer, out nuint size, ulong devicePointer);

    [LibraryImport(Library, EntryPoint = "cuGetErrorName")]
    public static partial CudaResult GetErrorName(CudaResult error, out byte* name);
}
