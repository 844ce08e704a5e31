using PdRdma.Interop.LevelZero.Native;

namespace PdRdma.Transport.LevelZero.Internal;

/// <summary>The one place a Level Zero result becomes the common error set, naming the call, the device and the fix.</summary>
internal static class LevelZeroErrors
{
    public const string InstallLoader =
        "install the Level Zero loader (apt-get install libze1; on Debian 12 from the trixie suite: apt-get install -t trixie libze1)";

    public const string InstallDriver =
        "install the Intel GPU compute runtime (apt-get install libze-intel-gpu1, or intel-level-zero-gpu from Intel's repository) " +
        "and give this user access to /dev/dri/renderD* (group render)";

    public static void Check(ze_result_t result, string call, string device)
    {
        if (result != ze_result_t.ZE_RESULT_SUCCESS) throw Error(result, call, device);
    }

    public static TransferException Error(ze_result_t result, string call, string device)
    {
        var code = Map(result);
        var fix = code switch
        {
            TransferErrorCode.DeviceUnavailable when result is ze_result_t.ZE_RESULT_ERROR_UNINITIALIZED => ": no Level Zero driver is loaded; " + InstallDriver,
            TransferErrorCode.PoolFull => ": the device is out of memory; allocate a smaller pool",
            _ => "",
        };
        return new TransferException(code, $"{call} on {device} failed: {result}{fix}");
    }

    public static TransferErrorCode Map(ze_result_t result) => result switch
    {
        ze_result_t.ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY or ze_result_t.ZE_RESULT_ERROR_OUT_OF_HOST_MEMORY => TransferErrorCode.PoolFull,
        ze_result_t.ZE_RESULT_ERROR_UNSUPPORTED_FEATURE or ze_result_t.ZE_RESULT_ERROR_UNSUPPORTED_VERSION
            or ze_result_t.ZE_RESULT_ERROR_UNSUPPORTED_ENUMERATION => TransferErrorCode.Unsupported,
        ze_result_t.ZE_RESULT_ERROR_INVALID_SIZE or ze_result_t.ZE_RESULT_ERROR_UNSUPPORTED_SIZE => TransferErrorCode.OutOfBounds,
        ze_result_t.ZE_RESULT_ERROR_INSUFFICIENT_PERMISSIONS => TransferErrorCode.AccessDenied,
        ze_result_t.ZE_RESULT_ERROR_INVALID_ARGUMENT or ze_result_t.ZE_RESULT_ERROR_INVALID_NULL_HANDLE
            or ze_result_t.ZE_RESULT_ERROR_INVALID_NULL_POINTER => TransferErrorCode.Protocol,
        _ => TransferErrorCode.DeviceUnavailable,
    };
}
