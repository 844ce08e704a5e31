using PdRdma.Tests.CApi;

namespace PdRdma.Tests.Python;

/// <summary>
/// A fact that runs Debian's /usr/bin/python3 with pytest and numpy (python3-pytest, python3-numpy, installed by
/// scripts/setup.sh); skipped with the reason when they are missing.
/// </summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> Missing = new(() =>
    {
        if (!File.Exists(Python)) return $"{Python} is missing (apt-get install python3)";
        var (code, output) = LibPdrdma.Run(Python, ["-c", "import pytest, numpy"], "/", TimeSpan.FromMinutes(1));
        return code == 0 ? null : $"{Python} lacks pytest or numpy (apt-get install python3-pytest python3-numpy): {output.Trim()}";
    });

    public PythonFactAttribute()
    {
        if (Missing.Value is { } reason) Skip = reason;
    }
}
