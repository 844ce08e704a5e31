using System.Diagnostics;
using System.Text.Json.Nodes;

namespace PdRdma.Tests.Verbs;

/// <summary>Drives vm/run-rdma-vms.sh: boots Soft-RoCE VMs, runs a command in each, returns their exit codes and output.</summary>
public static class SoftRoceVms
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Script => Path.Combine(RepoRoot, "vm", "run-rdma-vms.sh");

    /// <summary>The built CLI next to the test assembly; the VMs see it at the same path through their 9p root.</summary>
    public static string Cli => PdRdma.Hosting.Processes.PdrdmaProgram.Cli.DllPath();

    /// <summary>`dotnet` and the CLI as one shell word each: the checkout may live in a folder with spaces or quotes.</summary>
    public static string ShellCli => "dotnet '" + Cli.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static readonly Lazy<string?> MissingReason = new(CheckPrerequisites);

    /// <summary>Why the VMs cannot run here (qemu, kernel or modules missing), or null when they can.</summary>
    public static string? Missing => MissingReason.Value;

    public sealed record VmRun(int ExitCode, string Report, string LogA, string LogB, string OutDir)
    {
        /// <summary>JSON result lines (objects) that a VM's command printed.</summary>
        public IEnumerable<JsonObject> Results(string log) => log.Split('\n')
            .Where(l => l.StartsWith('{'))
            .Select(l => { try { return JsonNode.Parse(l) as JsonObject; } catch (System.Text.Json.JsonException) { return null; } })
            .OfType<JsonObject>();
    }

    /// <summary>Boots VM a (and VM b when <paramref name="commandB"/> is given) and runs the commands; VMs are always killed.</summary>
    public static async Task<VmRun> RunAsync(string commandA, string? commandB, TimeSpan timeout)
    {
        string outDir = Path.Combine(RepoRoot, ".pdrdma", "vm", "out", $"test-{Guid.NewGuid():N}"[..17]);
        Directory.CreateDirectory(outDir);
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot };
        foreach (var arg in new[] { Script, "--out", outDir, "--timeout", ((int)timeout.TotalSeconds).ToString(), "--port", Random.Shared.Next(47200, 48000).ToString(), "--", commandA })
            psi.ArgumentList.Add(arg);
        if (commandB is not null) psi.ArgumentList.Add(commandB);

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout + TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"run-rdma-vms.sh did not finish in {timeout + TimeSpan.FromSeconds(60)}");
        }
        string report = await stdout + await stderr;
        string Read(string name) => File.Exists(Path.Combine(outDir, name)) ? File.ReadAllText(Path.Combine(outDir, name)) : "";
        return new VmRun(process.ExitCode, report, Read("a.log"), Read("b.log"), outDir);
    }

    private static string? CheckPrerequisites()
    {
        if (!File.Exists(Script)) return $"{Script} is missing";
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Script);
        psi.ArgumentList.Add("--check");
        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000)) { process.Kill(true); return "run-rdma-vms.sh --check hung"; }
        return process.ExitCode == 0 ? null : $"Soft-RoCE VMs unavailable: {output.Trim()} (scripts/setup.sh --vm installs them)";
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PdRdma.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no PdRdma.sln above {AppContext.BaseDirectory}");
    }
}
