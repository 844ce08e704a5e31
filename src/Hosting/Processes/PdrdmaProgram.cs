namespace PdRdma.Hosting.Processes;

/// <summary>
/// The command line that starts one of the project's programs — <see cref="Cli"/> (<c>pdrdma</c>, what ships) or
/// <see cref="Bench"/> (<c>pdrdma-bench</c>, the benchmarks) — from whichever of them, or a test host, is running.
/// Found beside the running assembly (the program starting itself, or a bundle), else in the build output of the
/// checkout above it (same configuration), else through <c>PDRDMA_CLI</c> / <c>PDRDMA_BENCH</c>.
/// </summary>
public sealed class PdrdmaProgram
{
    private readonly string _assembly;
    private readonly string _projectDirectory;
    private readonly string _environmentVariable;

    private PdrdmaProgram(string assembly, string projectDirectory, string environmentVariable)
    {
        _assembly = assembly;
        _projectDirectory = projectDirectory;
        _environmentVariable = environmentVariable;
    }

    /// <summary>The shipped CLI, <c>pdrdma</c> (src/Cli).</summary>
    public static PdrdmaProgram Cli { get; } = new("pdrdma", Path.Combine("src", "Cli"), "PDRDMA_CLI");

    /// <summary>The benchmarks, <c>pdrdma-bench</c> (perf/); not shipped.</summary>
    public static PdrdmaProgram Bench { get; } = new("pdrdma-bench", "perf", "PDRDMA_BENCH");

    /// <summary>The program file and arguments, e.g. <c>[dotnet, /…/pdrdma.dll, daemon, …]</c> or <c>[/opt/pdrdma/pdrdma, …]</c>.</summary>
    /// <exception cref="FileNotFoundException">The program is not built.</exception>
    public string[] Line(params string[] args)
    {
        var (file, dll) = Locate();
        return dll ? [DotnetHost(), file, .. args] : [file, .. args];
    }

    /// <summary>Start information for <see cref="Line"/> (no shell; the caller chooses what to redirect).</summary>
    public System.Diagnostics.ProcessStartInfo StartInfo(params string[] args)
    {
        var line = Line(args);
        var info = new System.Diagnostics.ProcessStartInfo(line[0]) { UseShellExecute = false };
        foreach (var arg in line[1..]) info.ArgumentList.Add(arg);
        return info;
    }

    /// <summary>Starts <c>PROGRAM ARGS</c> (inside network namespace <paramref name="netns"/> when given), named after its first argument.</summary>
    public ChildProcess Start(string? netns, params string[] args) =>
        ChildProcess.Start(args.FirstOrDefault() ?? _assembly, [.. netns is null ? [] : Network.NamespacePair.Exec(netns), .. Line(args)]);

    /// <summary>Runs <c>PROGRAM ARGS</c> to its end (killed after <paramref name="timeout"/>: <see cref="TimeoutException"/>).</summary>
    public Task<(int Exit, string Stdout, string Stderr)> RunAsync(TimeSpan timeout, params string[] args) =>
        ChildProcess.RunAsync(Line(args), timeout, CancellationToken.None);

    /// <summary>What <c>DecodeWorkerClient</c> runs: the apphost when it is the running program, else the .dll (run by dotnet).</summary>
    public string WorkerPath() => Locate().File;

    /// <summary>The program's .dll (to be run by <c>dotnet</c>, e.g. inside a VM that sees this checkout).</summary>
    public string DllPath() => Locate(allowApphost: false).File;

    private (string File, bool Dll) Locate(bool allowApphost = true)
    {
        var processPath = Environment.ProcessPath;
        // this very program, run through its apphost (a self-contained bundle on a host without .NET)
        if (allowApphost && processPath is not null && Path.GetFileName(processPath) == _assembly) return (processPath, false);
        if (Environment.GetEnvironmentVariable(_environmentVariable) is { Length: > 0 } given)
        {
            return (Path.GetFullPath(given), given.EndsWith(".dll", StringComparison.Ordinal));
        }
        var beside = Path.Combine(AppContext.BaseDirectory, _assembly + ".dll");
        // a referenced exe is copied without its runtimeconfig: only a program's own folder can run it
        if (File.Exists(beside) && File.Exists(Path.Combine(AppContext.BaseDirectory, _assembly + ".runtimeconfig.json"))) return (beside, true);
        if (RepoRoot.Find() is { } root)
        {
            var built = Path.Combine(root, _projectDirectory, "bin", Configuration(), "net10.0", _assembly + ".dll");
            if (File.Exists(built)) return (built, true);
            throw new FileNotFoundException($"{_assembly} is not built ({built} is missing): run `./pdrdma build` (or dotnet build PdRdma.sln -c {Configuration()})", built);
        }
        throw new FileNotFoundException($"{_assembly} is neither beside {AppContext.BaseDirectory} nor in a checkout above it; set {_environmentVariable} to its .dll", beside);
    }

    /// <summary>Release or Debug: the configuration this assembly was built in (read from its output path).</summary>
    private static string Configuration()
    {
        var parts = AppContext.BaseDirectory.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var bin = Array.LastIndexOf(parts, "bin");
        return bin >= 0 && bin + 1 < parts.Length ? parts[bin + 1] : "Release";
    }

    private static string DotnetHost()
    {
        var processPath = Environment.ProcessPath;
        return processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
    }
}
