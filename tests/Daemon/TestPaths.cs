using System.Security.Cryptography;
using PdRdma.Hosting.Processes;

namespace PdRdma.Tests.Daemon;

/// <summary>Scratch folders and the built CLI for separate-process tests.</summary>
internal static class TestPaths
{
    private static readonly List<string> Created = [];

    static TestPaths() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        lock (Created)
            foreach (var path in Created)
                try { Directory.Delete(path, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    };

    /// <summary>A fresh folder under the temp folder, removed when the test process exits.</summary>
    public static string Scratch(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pdd-{name}-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
        Directory.CreateDirectory(path);
        lock (Created) Created.Add(path);
        return path;
    }

    public static string SecretFile(string folder, byte[]? secret = null)
    {
        var path = Path.Combine(folder, "cluster.key");
        File.WriteAllBytes(path, secret ?? RandomNumberGenerator.GetBytes(32));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead);
        return path;
    }

    /// <summary>Runs `pdrdma ARGS` to completion (bounded) and returns exit code and output (stdout, then stderr).</summary>
    public static async Task<(int Code, string Output)> RunCliAsync(TimeSpan timeout, params string[] args)
    {
        var (exit, stdout, stderr) = await PdrdmaProgram.Cli.RunAsync(timeout, args);
        return (exit, stdout + stderr);
    }
}
