namespace PdRdma.Tests.CApi;

/// <summary>A fact that compiles C against include/pdrdma.h with the system compiler (cc); skipped with the reason when there is none.</summary>
public sealed class CCompiledFactAttribute : FactAttribute
{
    public CCompiledFactAttribute()
    {
        if (FindCc() is null) Skip = "no C compiler (cc) on PATH (apt-get install gcc libc6-dev)";
    }

    public static string? FindCc() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':')
            .Select(dir => Path.Combine(dir, "cc")).FirstOrDefault(File.Exists);
}
