using PdRdma.Daemon;

namespace PdRdma.Cli.Commands;

/// <summary><c>pdrdma daemon [--config FILE] [--node-id N] [--socket PATH] ...</c>: runs pdrdmad in the foreground.</summary>
public static class DaemonCommand
{
    public const string Help = "run the node daemon pdrdmad (--config FILE, --node-id, --socket, --peer-listen, --secret-file, ...)";

    public static Task<int> RunAsync(string[] args) => DaemonHost.RunAsync(args, Console.Error);
}
