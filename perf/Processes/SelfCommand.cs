namespace PdRdma.Perf.Processes;

/// <summary>The command line that starts another instance of the pdrdma CLI (apphost, or <c>dotnet pdrdma.dll</c>).</summary>
public static class SelfCommand
{
    public static string[] Line(params string[] args)
    {
        var processPath = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(processPath) == "dotnet"
            ? [processPath, Path.Combine(AppContext.BaseDirectory, "pdrdma.dll"), .. args]
            : [processPath, .. args];
    }
}
