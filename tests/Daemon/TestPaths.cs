using System.Diagnostics;
using System.Security.Cryptography;

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

    public static int FreePort()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        return ((System.Net.IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Runs `pdrdma ARGS` to completion (bounded) and returns exit code and output.</summary>
    public static async Task<(int Code, string Output)> RunCliAsync(TimeSpan timeout, params string[] args)
    {
        var command = Cli.Demo.LocalCluster.SelfCommand();
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in command[1..].Concat(args)) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bounded = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(bounded.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"pdrdma {string.Join(' ', args)} did not finish in {timeout}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
