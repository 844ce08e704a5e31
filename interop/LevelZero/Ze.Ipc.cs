using System.Runtime.InteropServices;
using PdRdma.Interop.LevelZero.Handles;
using PdRdma.Interop.LevelZero.Native;

namespace PdRdma.Interop.LevelZero;

public static partial class Ze
{
    [LibraryImport(Library, EntryPoint = "zeMemGetIpcHandle")]
    public static partial ze_result_t MemGetIpcHandle(ZeContextHandle context, nint pointer, out ze_ipc_mem_handle_t handle);

    [LibraryImport(Library, EntryPoint = "zeMemPutIpcHandle")]
    public static partial ze_result_t MemPutIpcHandle(ZeContextHandle context, ze_ipc_mem_handle_t handle);

    [LibraryImport(Library, EntryPoint = "zeMemOpenIpcHandle")]
    private static partial ze_result_t zeMemOpenIpcHandle(ZeContextHandle context, nint device, ze_ipc_mem_handle_t handle, uint flags, out nint pointer);

    [LibraryImport(Library, EntryPoint = "zeMemCloseIpcHandle")]
    internal static partial ze_result_t zeMemCloseIpcHandle(nint context, nint pointer);

    /// <summary>The descriptor inside an IPC handle (valid in this process only; pass it on with SCM_RIGHTS).</summary>
    [LibraryImport(Library, EntryPoint = "zeMemGetFileDescriptorFromIpcHandleExp")]
    public static partial ze_result_t MemGetFileDescriptorFromIpcHandle(ZeContextHandle context, ze_ipc_mem_handle_t handle, out ulong fd);

    /// <summary>An IPC handle around a descriptor received from another process.</summary>
    [LibraryImport(Library, EntryPoint = "zeMemGetIpcHandleFromFileDescriptorExp")]
    public static partial ze_result_t MemGetIpcHandleFromFileDescriptor(ZeContextHandle context, ulong fd, out ze_ipc_mem_handle_t handle);

    /// <summary>Maps another process's allocation; the mapping handle holds the context and closes the mapping on release.</summary>
    public static ze_result_t MemOpenIpcHandle(ZeContextHandle context, nint device, ze_ipc_mem_handle_t handle, out ZeIpcMappingHandle mapping)
    {
        var result = zeMemOpenIpcHandle(context, device, handle, 0, out var pointer);
        mapping = new ZeIpcMappingHandle();
        if (result == ze_result_t.ZE_RESULT_SUCCESS) mapping.Adopt(pointer, context);
        return result;
    }
}
