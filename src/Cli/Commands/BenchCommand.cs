using System.CommandLine;
using System.Diagnostics;
using PdRdma.Hosting.Processes;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma bench …</c>: runs the benchmarks program (<c>pdrdma-bench</c>, built from perf/ in a checkout) with the
/// same arguments and this terminal. The benchmarks are not part of what ships, so neither they nor their plotting
/// library are linked into this CLI.
/// </summary>
public static class BenchCommand
{
    public const string Help = "benchmarks: transfer bandwidth/latency vs baselines, end to end colocated vs disaggregated, serving (bench serve); writes docs/BENCHMARKS.md";

    public const string LayoutHelp = "KV layout translation cost: identical layouts vs each difference, same run (--backends shm,tcp, --reps N, --docs DIR)";

    /// <summary>
    /// The command as help lists it. Its arguments are never parsed here: <see cref="CliApp.RunAsync"/> hands them to
    /// pdrdma-bench, whose own --help lists the parts and options.
    /// </summary>
    public static Command Create(string name, string description)
    {
        var command = new Command(name, description + " (pdrdma-bench; see pdrdma " + name + " --help)") { TreatUnmatchedTokensAsErrors = false };
        return command;
    }

    /// <summary>Runs <c>pdrdma-bench ARGS</c> and returns its exit code; 1 with a message when it is not built here.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        string[] line;
        try
        {
            line = PdrdmaProgram.Bench.Line(args);
        }
        catch (FileNotFoundException e)
        {
            await Console.Error.WriteLineAsync($"pdrdma bench: the benchmarks run from a checkout: {e.Message}");
            return 1;
        }
        var info = new ProcessStartInfo(line[0]) { UseShellExecute = false };
        foreach (var arg in line[1..]) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start pdrdma-bench");
        // Ctrl-C reaches both processes (same terminal); this one waits for the benchmark to finish its cleanup.
        Console.CancelKeyPress += (_, e) => e.Cancel = true;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

}
