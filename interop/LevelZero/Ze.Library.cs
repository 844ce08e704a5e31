namespace PdRdma.Interop.LevelZero;

/// <summary>
/// P/Invoke binding to the oneAPI Level Zero loader. One native function family per file (Ze.Driver.cs,
/// Ze.Memory.cs, ...). Every function returns a <see cref="Native.ze_result_t"/>; functions that create an object
/// return a SafeHandle holding its parents, so teardown order follows from references.
/// </summary>
public static partial class Ze
{
    /// <summary>The loader (Debian/Ubuntu package libze1); it finds the vendor drivers (libze_intel_gpu.so.1, ...).</summary>
    public const string Library = "libze_loader.so.1";

    /// <summary>The loader's variable naming driver libraries to load instead of the known ones (development and tests).</summary>
    public const string AltDriversVariable = "ZE_ENABLE_ALT_DRIVERS";
}
