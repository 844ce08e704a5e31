using System.Runtime.InteropServices;
using PdRdma.Interop.LevelZero.Native;

namespace PdRdma.Interop.LevelZero;

public static partial class Ze
{
    /// <summary>zeDeviceGet: count first (devices null), then the handles; device handles live as long as their driver.</summary>
    [LibraryImport(Library, EntryPoint = "zeDeviceGet")]
    public static unsafe partial ze_result_t DeviceGet(nint driver, ref uint count, nint* devices);

    [LibraryImport(Library, EntryPoint = "zeDeviceGetProperties")]
    public static partial ze_result_t DeviceGetProperties(nint device, ref ze_device_properties_t properties);
}
