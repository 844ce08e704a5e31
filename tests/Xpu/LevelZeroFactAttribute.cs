using System.Runtime.InteropServices;

namespace PdRdma.Tests.Xpu;

/// <summary>
/// A fact that needs the Level Zero loader and headers (libze1, libze-dev) and gcc, to build and load the test driver.
/// Skipped with the reason where scripts/setup.sh has not run. Needs no Intel hardware.
/// </summary>
public sealed class LevelZeroFactAttribute : FactAttribute
{
    public const string Header = "/usr/include/level_zero/ze_api.h";

    public LevelZeroFactAttribute()
    {
        Skip = MissingReason();
    }

    public static string? MissingReason()
    {
        if (Interop.CCompilerFactAttribute.FindGcc() is null) return "gcc is not installed (scripts/setup.sh installs it)";
        if (!File.Exists(Header)) return $"{Header} is missing (scripts/setup.sh installs libze-dev from trixie)";
        if (!NativeLibrary.TryLoad("libze_loader.so.1", out _)) return "libze_loader.so.1 is missing (scripts/setup.sh installs libze1 from trixie)";
        return null;
    }
}
