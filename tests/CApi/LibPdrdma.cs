using System.Diagnostics;

namespace PdRdma.Tests.CApi;

/// <summary>
/// libpdrdma.so for the C and Python tests: <c>.pdrdma/native/libpdrdma.so</c> in the checkout, published with NativeAOT
/// here when it is missing (the same command as <c>./pdrdma build native</c>; one build at a time across test processes).
/// </summary>
internal static class LibPdrdma
{
    private static readonly Lazy<string> Built = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The checkout root (the folder holding PdRdma.sln).</summary>
    public static string Root { get; } = FindRoot();

    public static string Folder => Path.Combine(Root, ".pdrdma", "native");

    public static string Include => Path.Combine(Root, "include");

    /// <summary>Path of the library, built first when missing.</summary>
    public static string Library => Built.Value;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PdRdma.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no PdRdma.sln above {AppContext.BaseDirectory}");
    }

    private static string Build()
    {
        var library = Path.Combine(Folder, "libpdrdma.so");
        Directory.CreateDirectory(Folder);
        using var gate = new FileStream(Path.Combine(Root, ".pdrdma", "native.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        if (File.Exists(library)) return library;
        var (code, output) = Run("dotnet", ["publish", Path.Combine(Root, "src", "Native", "PdRdma.Native.csproj"), "-c", "Release", "-r", "linux-x64",
            "-o", Folder, "-nologo", "-v", "quiet", "-clp:ErrorsOnly"], Root, TimeSpan.FromMinutes(20));
        if (code != 0 || !File.Exists(library)) throw new InvalidOperationException($"building libpdrdma.so failed ({code}):\n{output}");
        return library;
    }

    /// <summary>Runs a command to its end (or the timeout, then kills it) and returns its exit code and combined output.</summary>
    public static (int Code, string Output) Run(string file, IEnumerable<string> args, string workingDirectory, TimeSpan timeout, IDictionary<string, string>? env = null)
    {
        var info = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) info.Environment[k] = v;
        using var process = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output) return (-1, output + $"\n(killed after {timeout.TotalSeconds:0} s)");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}
