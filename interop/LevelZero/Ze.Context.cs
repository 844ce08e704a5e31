using System.Runtime.InteropServices;
using PdRdma.Interop.LevelZero.Handles;
using PdRdma.Interop.LevelZero.Native;

namespace PdRdma.Interop.LevelZero;

public static partial class Ze
{
    [LibraryImport(Library, EntryPoint = "zeContextCreate")]
    private static partial ze_result_t zeContextCreate(nint driver, in ze_context_desc_t desc, out nint context);

    [LibraryImport(Library, EntryPoint = "zeContextDestroy")]
    internal static partial ze_result_t zeContextDestroy(nint context);

    /// <summary>Creates a context on <paramref name="driver"/>; the handle is invalid when the result is not success.</summary>
    public static ze_result_t ContextCreate(nint driver, out ZeContextHandle context)
    {
        var desc = new ze_context_desc_t { stype = ze_structure_type_t.ZE_STRUCTURE_TYPE_CONTEXT_DESC };
        var result = zeContextCreate(driver, desc, out var native);
        context = new ZeContextHandle();
        if (result == ze_result_t.ZE_RESULT_SUCCESS) context.Adopt(native);
        return result;
    }
}
