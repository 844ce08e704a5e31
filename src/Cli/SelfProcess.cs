using System.Diagnostics;

namespace PdRdma.Cli;

/// <summary>Start information for another instance of this CLI (apphost, or `dotnet pdrdma.dll`).</summary>
public static class SelfProcess
{
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var processPath = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            info.FileName = processPath;
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pdrdma.dll"));
        }
        else
        {
            info.FileName = processPath;
        }
        foreach (var arg in args) info.ArgumentList.Add(arg);
        return info;
    }

    /// <summary>
    /// What DecodeWorkerClient starts for a worker: pdrdma.dll (run by dotnet) beside this assembly, or this
    /// executable itself when it is not run by dotnet (the self-contained GPU bundle, on hosts without .NET).
    /// </summary>
    public static string WorkerPath()
    {
        var processPath = Environment.ProcessPath;
        // Only this CLI's own apphost runs the worker directly; any other host (dotnet, a test host) runs pdrdma.dll.
        return processPath is not null && Path.GetFileName(processPath) == "pdrdma" ? processPath : Path.Combine(AppContext.BaseDirectory, "pdrdma.dll");
    }
}
