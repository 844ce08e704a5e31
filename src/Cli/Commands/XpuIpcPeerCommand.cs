using System.CommandLine;
using System.IO.Hashing;
using System.Net.Sockets;
using PdRdma.Transport;
using PdRdma.Transport.LevelZero;

namespace PdRdma.Cli.Commands;

/// <summary>
/// The decode side of the same-XPU split (run by xpu-check): allocates a pool on the XPU filled with a known pattern,
/// shares it over the given Unix socket, waits for the writer's "done HASH" line on stdin, takes the written bytes in
/// (a no-op unless host staged) and verifies them.
/// </summary>
public static class XpuIpcPeerCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("xpu-ipc-peer", "the pool-owning process of xpu-check");
        XpuCheckOptions.AddTo(command, socket: true);
        command.Hidden = true;
        command.SetAction((parse, _) => RunAsync(XpuCheckOptions.From(parse)));
        return command;
    }

    private static async Task<int> RunAsync(XpuCheckOptions options)
    {
        using var device = options.OpenDevice();
        using var pool = LevelZeroDeviceRegion.Allocate(device, "decode-pool", options.Bytes);
        pool.Write(0, XpuCheckOptions.Pattern(options.Bytes, 7));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(options.Socket!));
        socket.ReceiveTimeout = 60_000;
        using var session = XpuSharing.Offer(socket, pool, options.Paths);

        var line = await Console.In.ReadLineAsync() ?? string.Empty;
        if (!line.StartsWith("done ", StringComparison.Ordinal))
        {
            Console.WriteLine($"error expected 'done HASH', got '{line}'");
            return 1;
        }
        session.AbsorbFromPeer(0, options.Bytes);
        var host = new byte[options.Bytes];
        pool.Read(0, host);
        var actual = Convert.ToHexString(XxHash3.Hash(host));
        var ok = actual == line[5..].Trim();
        Console.WriteLine($"verified {(ok ? "true" : "false")} {actual} via {session.Path}");
        return ok ? 0 : 1;
    }
}
