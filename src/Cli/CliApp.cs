using System.CommandLine;
using PdRdma.Cli.Commands;
using PdRdma.Hosting.CommandLine;

namespace PdRdma.Cli;

/// <summary>
/// <c>pdrdma &lt;command&gt;</c>: every command on System.CommandLine (help, typed options, one error style through
/// <see cref="CommandLineApp"/>). Internal commands (peers of tests, checks and the VM demo) run but are hidden from
/// help. <c>bench</c> and <c>bench-layout</c> hand their whole command line to the benchmarks program.
/// </summary>
public static class CliApp
{
    /// <summary>Every command of the shipped CLI, hidden ones included.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("pdrdma: KV-cache transfer for disaggregated LLM inference (prefill node -> decode node)")
        {
            DemoCommand.Create(),
            ClusterCommand.Create(),
            DaemonCommand.Create(),
            ServeCommand.Create(),
            ProxyCommand.Create(),
            GenerateCommand.Create(),
            ModelExportCommand.Create(),
            EngineCheckCommand.Create(),
            EngineBenchCommand.Create(),
            GpuCheckCommand.Create(),
            XpuCheckCommand.Create(),
            XpuCudaCheckCommand.Create(),
            BenchCommand.Create("bench", BenchCommand.Help),
            BenchCommand.Create("bench-layout", BenchCommand.LayoutHelp),
            GpuIpcPeerCommand.Create(),
            XpuIpcPeerCommand.Create(),
            DemoVmNodeCommand.Create(),
            VerbsPeerCommand.Create(),
            VerbsDmaBufPeerCommand.Create(),
            VerbsGrantPeerCommand.Create(),
            TransferTargetCommand.Create(),
            TransferSendCommand.Create(),
            TransferMemcpyCommand.Create(),
        };
        return root;
    }

    /// <summary>Runs <paramref name="args"/>; returns the exit code (2: usage error).</summary>
    public static Task<int> RunAsync(string[] args) => args.FirstOrDefault() switch
    {
        "bench" => BenchCommand.RunAsync(args[1..]),
        "bench-layout" => BenchCommand.RunAsync(["layout", .. args[1..]]),
        _ => CommandLineApp.RunAsync(CreateRoot(), args, "pdrdma"),
    };
}
