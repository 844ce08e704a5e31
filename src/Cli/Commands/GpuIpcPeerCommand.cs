using System.CommandLine;
using System.IO.Hashing;
using PdRdma.Transport.Cuda;

namespace PdRdma.Cli.Commands;

/// <summary>
/// The decode side of the same-device handoff: allocates a device region, publishes its IPC handle on
/// stdout, waits for the writer's "done" line on stdin, then verifies the bytes it now holds.
/// </summary>
public static class GpuIpcPeerCommand
{
    private static readonly Argument<long> Bytes = Hosting.CommandLine.CliOptions.IntArgument("BYTES", "pool size in bytes", 1, 1L << 40);

    /// <summary>The command (internal: the receiving process of gpu-check, not listed in help).</summary>
    public static Command Create()
    {
        var command = new Command("gpu-ipc-peer", "the receiving process of gpu-check") { Bytes };
        command.Hidden = true;
        command.SetAction((parse, _) => RunAsync(parse.GetValue(Bytes)));
        return command;
    }

    private static async Task<int> RunAsync(long bytes)
    {
        using var device = CudaDevice.Open(0);
        using var region = CudaDeviceRegion.Allocate(device, "decode-pool", bytes);
        Console.WriteLine($"handle {Convert.ToHexString(region.ExportIpcHandle())}");
        await Console.Out.FlushAsync();

        var line = await Console.In.ReadLineAsync() ?? string.Empty;
        if (!line.StartsWith("done ", StringComparison.Ordinal))
        {
            Console.WriteLine($"error expected 'done HASH', got '{line}'");
            return 1;
        }
        var expected = line[5..].Trim();
        var host = GC.AllocateUninitializedArray<byte>(checked((int)bytes));
        region.Read(0, host);
        var actual = Convert.ToHexString(XxHash3.Hash(host));
        Console.WriteLine($"verified {(actual == expected ? "true" : "false")} {actual}");
        return actual == expected ? 0 : 1;
    }
}
