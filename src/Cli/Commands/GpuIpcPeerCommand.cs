using System.Globalization;
using System.IO.Hashing;
using PdRdma.Transport.Cuda;

namespace PdRdma.Cli.Commands;

/// <summary>
/// The decode side of the same-device handoff: allocates a device region, publishes its IPC handle on
/// stdout, waits for the writer's "done" line on stdin, then verifies the bytes it now holds.
/// </summary>
public static class GpuIpcPeerCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var bytes = long.Parse(args.Length > 0 ? args[0] : throw new ArgumentException("usage: gpu-ipc-peer BYTES"), CultureInfo.InvariantCulture);
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
