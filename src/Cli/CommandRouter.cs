using PdRdma.Cli.Commands;

namespace PdRdma.Cli;

/// <summary>Dispatches <c>pdrdma &lt;command&gt;</c> to the command that implements it.</summary>
public static class CommandRouter
{
    private static readonly Dictionary<string, (string Help, Func<string[], Task<int>> Run)> Commands = new(StringComparer.Ordinal)
    {
        ["bench"] = (BenchCommand.Help, BenchCommand.RunAsync),
        ["bench-layout"] = (BenchCommand.LayoutHelp, BenchCommand.LayoutAsync),
        ["daemon"] = (DaemonCommand.Help, DaemonCommand.RunAsync),
        ["serve"] = (ServeCommand.Help, ServeCommand.RunAsync),
        ["proxy"] = (ProxyCommand.Help, ProxyCommand.RunAsync),
        ["demo"] = (DemoCommand.Help, DemoCommand.RunAsync),
        ["cluster"] = (ClusterCommand.Help, ClusterCommand.RunAsync),
        ["demo-vm-node"] = (DemoVmNodeCommand.Help, DemoVmNodeCommand.RunAsync),
        ["decode-worker"] = (DecodeWorkerCommand.Help, DecodeWorkerCommand.RunAsync),
        ["engine-bench"] = (EngineBenchCommand.Help, EngineBenchCommand.RunAsync),
        ["engine-check"] = (EngineCheckCommand.Help, EngineCheckCommand.RunAsync),
        ["generate"] = (GenerateCommand.Help, GenerateCommand.RunAsync),
        ["model-export"] = (ModelExportCommand.Help, ModelExportCommand.RunAsync),
        ["verbs-peer"] = (VerbsPeerCommand.Help, VerbsPeerCommand.RunAsync),
        ["gpu-check"] = ("CUDA regions on this host's GPU: copies, IPC push between processes, dma-buf (JSON)", GpuCheckCommand.RunAsync),
        ["gpu-ipc-peer"] = ("(internal) the receiving process of gpu-check", GpuIpcPeerCommand.RunAsync),
        ["xpu-check"] = (XpuCheckCommand.Help, XpuCheckCommand.RunAsync),
        ["xpu-ipc-peer"] = ("(internal) the pool-owning process of xpu-check", XpuIpcPeerCommand.RunAsync),
        ["xpu-cuda-check"] = (XpuCudaCheckCommand.Help, XpuCudaCheckCommand.RunAsync),
        ["transfer-target"] = (TransferTargetCommand.Help, TransferTargetCommand.RunAsync),
        ["transfer-send"] = (TransferSendCommand.Help, TransferSendCommand.RunAsync),
        ["transfer-memcpy"] = (TransferMemcpyCommand.Help, TransferMemcpyCommand.RunAsync),
    };

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintUsage(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }

        if (!Commands.TryGetValue(args[0], out var command))
        {
            Console.Error.WriteLine($"pdrdma: unknown command '{args[0]}'");
            PrintUsage(Console.Error);
            return 2;
        }

        if (args.Length > 1 && args[1..].Any(a => a is "--help" or "-h"))
        {
            Console.Out.WriteLine($"usage: pdrdma {args[0]} [options]\n  {command.Help}");
            return 0;
        }

        try
        {
            return await command.Run(args[1..]);
        }
        catch (PdRdma.Transport.TransferException e)
        {
            Console.Error.WriteLine($"pdrdma {args[0]}: {e.Message}");
            return 1;
        }
    }

    private static void PrintUsage(TextWriter writer)
    {
        writer.WriteLine("usage: pdrdma <command> [options]");
        foreach (var (name, command) in Commands.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            // internal tools (peers of tests, checks and the VM demo) run but are not offered
            if (command.Help.StartsWith("(internal)", StringComparison.Ordinal)) continue;
            writer.WriteLine($"  {name,-12} {command.Help}");
        }
    }
}
