namespace PdRdma.Tests.Interop;

/// <summary>A fact that needs gcc and the libibverbs headers (libibverbs-dev); skipped with the reason when they are missing.</summary>
public sealed class CCompilerFactAttribute : FactAttribute
{
    public const string VerbsHeader = "/usr/include/infiniband/verbs.h";

    public CCompilerFactAttribute()
    {
        if (FindGcc() is null) Skip = "gcc is not installed (apt-get install gcc libc6-dev)";
        else if (!File.Exists(VerbsHeader)) Skip = $"{VerbsHeader} is missing (apt-get install libibverbs-dev)";
    }

    public static string? FindGcc() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':')
            .Select(dir => Path.Combine(dir, "gcc")).FirstOrDefault(File.Exists);
}
