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
}
