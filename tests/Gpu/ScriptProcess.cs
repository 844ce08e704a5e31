using System.Diagnostics;

namespace PdRdma.Tests.Gpu;

/// <summary>Runs a script or tool as its own process with a bound, capturing both streams.</summary>
internal static class ScriptProcess
{
    public static (int Code, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, TimeSpan limit, IDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (environment is not null)
        {
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        }
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {limit.TotalSeconds:F0} s");
        }
        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>The system Python 3 (what scripts/setup.sh installs), or null.</summary>
    public static string? Python { get; } = new[] { "/usr/bin/python3" }.FirstOrDefault(File.Exists);

    /// <summary>Why a test needing Python 3 with numpy cannot run here, or null when it can.</summary>
    public static string? NumpyMissing { get; } = CheckNumpy();

    private static string? CheckNumpy()
    {
        if (Python is null) return "needs /usr/bin/python3 (scripts/setup.sh installs it)";
        try
        {
            var (code, _, err) = Run(Python, ["-c", "import numpy"], TimeSpan.FromSeconds(60));
            return code == 0 ? null : $"needs numpy for /usr/bin/python3 (scripts/setup.sh installs python3-numpy): {err.Trim()}";
        }
        catch (Exception e) when (e is TimeoutException or System.ComponentModel.Win32Exception)
        {
            return $"python3 did not run: {e.Message}";
        }
    }
}
