using System.Runtime.InteropServices;
using PdRdma.Interop.LevelZero.Handles;
using PdRdma.Interop.LevelZero.Native;

namespace PdRdma.Interop.LevelZero;

public static partial class Ze
{
    [LibraryImport(Library, EntryPoint = "zeCommandListCreateImmediate")]
    private static partial ze_result_t zeCommandListCreateImmediate(ZeContextHandle context, nint device, in ze_command_queue_desc_t desc, out nint list);

    [LibraryImport(Library, EntryPoint = "zeCommandListDestroy")]
    internal static partial ze_result_t zeCommandListDestroy(nint list);

    [LibraryImport(Library, EntryPoint = "zeCommandListAppendMemoryCopy")]
    private static partial ze_result_t zeCommandListAppendMemoryCopy(ZeCommandListHandle list, nint destination, nint source, nuint size, nint signalEvent, uint waitCount, nint waitEvents);

    [LibraryImport(Library, EntryPoint = "zeCommandListAppendMemoryFill")]
    private static partial ze_result_t zeCommandListAppendMemoryFill(ZeCommandListHandle list, nint pointer, in byte pattern, nuint patternSize, nuint size, nint signalEvent, uint waitCount, nint waitEvents);

    [LibraryImport(Library, EntryPoint = "zeCommandListHostSynchronize")]
    public static partial ze_result_t CommandListHostSynchronize(ZeCommandListHandle list, ulong timeoutNanoseconds);

    /// <summary>A synchronous immediate command list (copies complete before the call returns); holds the context.</summary>
    public static ze_result_t CommandListCreateImmediate(ZeContextHandle context, nint device, out ZeCommandListHandle list)
    {
        var desc = new ze_command_queue_desc_t
        {
            stype = ze_structure_type_t.ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC,
            mode = ze_command_queue_mode_t.ZE_COMMAND_QUEUE_MODE_SYNCHRONOUS,
        };
        var result = zeCommandListCreateImmediate(context, device, desc, out var native);
        list = new ZeCommandListHandle();
        if (result == ze_result_t.ZE_RESULT_SUCCESS) list.Adopt(native, context);
        return result;
    }

    /// <summary>Copies <paramref name="size"/> bytes between any two of device, host-allocated or plain host memory.</summary>
    public static ze_result_t CommandListAppendMemoryCopy(ZeCommandListHandle list, nint destination, nint source, nuint size) =>
        zeCommandListAppendMemoryCopy(list, destination, source, size, 0, 0, 0);

    /// <summary>Fills <paramref name="size"/> bytes with <paramref name="value"/>.</summary>
    public static ze_result_t CommandListAppendMemoryFill(ZeCommandListHandle list, nint pointer, byte value, nuint size) =>
        zeCommandListAppendMemoryFill(list, pointer, value, 1, size, 0, 0, 0);
}
