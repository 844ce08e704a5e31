using System.Diagnostics;

namespace PdRdma.Tests.Perf;

/// <summary>Runs the built CLI (<c>dotnet pdrdma.dll ...</c>, next to the test assembly) with a bounded wait; kills it on timeout.</summary>
internal static class PdrdmaProcess
{
    public static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pdrdma.dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start pdrdma");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"pdrdma {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:F0} s; stderr: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
