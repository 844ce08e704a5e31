using System.Runtime.InteropServices;
using PdRdma.Interop.LevelZero.Native;

namespace PdRdma.Interop.LevelZero;

public static partial class Ze
{
    /// <summary>zeInit: loads the drivers the loader finds; once per process (the loader remembers the first outcome).</summary>
    [LibraryImport(Library, EntryPoint = "zeInit")]
    public static partial ze_result_t Init(uint flags);

    /// <summary>zeDriverGet: count first (drivers null), then the handles. Driver handles live as long as the process.</summary>
    [LibraryImport(Library, EntryPoint = "zeDriverGet")]
    public static unsafe partial ze_result_t DriverGet(ref uint count, nint* drivers);

    [LibraryImport(Library, EntryPoint = "zeDriverGetProperties")]
    public static partial ze_result_t DriverGetProperties(nint driver, ref ze_driver_properties_t properties);
}
