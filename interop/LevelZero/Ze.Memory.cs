using System.Runtime.InteropServices;
using PdRdma.Interop.LevelZero.Handles;
using PdRdma.Interop.LevelZero.Native;

namespace PdRdma.Interop.LevelZero;

public static partial class Ze
{
    [LibraryImport(Library, EntryPoint = "zeMemAllocDevice")]
    private static unsafe partial ze_result_t zeMemAllocDevice(ZeContextHandle context, ze_device_mem_alloc_desc_t* desc, nuint size, nuint alignment, nint device, out nint pointer);

    [LibraryImport(Library, EntryPoint = "zeMemAllocHost")]
    private static partial ze_result_t zeMemAllocHost(ZeContextHandle context, in ze_host_mem_alloc_desc_t desc, nuint size, nuint alignment, out nint pointer);

    [LibraryImport(Library, EntryPoint = "zeMemFree")]
    internal static partial ze_result_t zeMemFree(nint context, nint pointer);

    /// <summary>zeMemGetAllocProperties; chain a <see cref="ze_external_memory_export_fd_t"/> in pNext to export a dma-buf.</summary>
    [LibraryImport(Library, EntryPoint = "zeMemGetAllocProperties")]
    public static unsafe partial ze_result_t MemGetAllocProperties(ZeContextHandle context, nint pointer, ze_memory_allocation_properties_t* properties, out nint device);

    [LibraryImport(Library, EntryPoint = "zeMemGetAddressRange")]
    public static partial ze_result_t MemGetAddressRange(ZeContextHandle context, nint pointer, out nint basePointer, out nuint size);

    /// <summary>
    /// Device memory on <paramref name="device"/>; <paramref name="exportable"/> chains an export descriptor (dma-buf),
    /// <paramref name="importFd"/> (when not -1) imports that dma-buf instead of allocating. The handle holds the context.
    /// </summary>
    public static unsafe ze_result_t MemAllocDevice(ZeContextHandle context, nint device, nuint size, bool exportable, int importFd, out ZeMemoryHandle memory)
    {
        var export = new ze_external_memory_export_desc_t
        {
            stype = ze_structure_type_t.ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_EXPORT_DESC,
            flags = ze_external_memory_type_flags_t.ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF,
        };
        var import = new ze_external_memory_import_fd_t
        {
            stype = ze_structure_type_t.ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_IMPORT_FD,
            flags = ze_external_memory_type_flags_t.ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF,
            fd = importFd,
        };
        var desc = new ze_device_mem_alloc_desc_t
        {
            stype = ze_structure_type_t.ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC,
            pNext = importFd >= 0 ? &import : exportable ? &export : null,
        };
        var result = zeMemAllocDevice(context, &desc, size, 0, device, out var pointer);
        memory = new ZeMemoryHandle();
        if (result == ze_result_t.ZE_RESULT_SUCCESS) memory.Adopt(pointer, context);
        return result;
    }

    /// <summary>Host memory the device reaches directly (staging); the handle holds the context.</summary>
    public static ze_result_t MemAllocHost(ZeContextHandle context, nuint size, out ZeMemoryHandle memory)
    {
        var desc = new ze_host_mem_alloc_desc_t { stype = ze_structure_type_t.ZE_STRUCTURE_TYPE_HOST_MEM_ALLOC_DESC };
        var result = zeMemAllocHost(context, desc, size, 0, out var pointer);
        memory = new ZeMemoryHandle();
        if (result == ze_result_t.ZE_RESULT_SUCCESS) memory.Adopt(pointer, context);
        return result;
    }

    /// <summary>A dma-buf descriptor of the allocation at <paramref name="pointer"/>; the caller owns it (close it).</summary>
    public static unsafe ze_result_t MemExportDmaBuf(ZeContextHandle context, nint pointer, out int fd)
    {
        var export = new ze_external_memory_export_fd_t
        {
            stype = ze_structure_type_t.ZE_STRUCTURE_TYPE_EXTERNAL_MEMORY_EXPORT_FD,
            flags = ze_external_memory_type_flags_t.ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF,
            fd = -1,
        };
        var properties = new ze_memory_allocation_properties_t
        {
            stype = ze_structure_type_t.ZE_STRUCTURE_TYPE_MEMORY_ALLOCATION_PROPERTIES,
            pNext = &export,
        };
        var result = MemGetAllocProperties(context, pointer, &properties, out _);
        fd = result == ze_result_t.ZE_RESULT_SUCCESS ? export.fd : -1;
        return result;
    }
}
