using System.CommandLine;
using System.Diagnostics;
using System.IO.Hashing;
using System.Net.Sockets;
using System.Text.Json;
using PdRdma.Transport;
using PdRdma.Transport.LevelZero;
using PdRdma.Hosting.Processes;

namespace PdRdma.Cli.Commands;

/// <summary>
/// Steps 0.5 and 1.5 on an XPU host (or against the test driver): Level Zero device region copies host ↔ device and
/// device ↔ device, dma-buf export, and the same-XPU split between two processes: the decode process (xpu-ipc-peer)
/// owns a pool and shares it (IPC handle, else dma-buf, else host staging, chosen and reported); this process reads
/// the peer's bytes through the share and pushes its own, which the peer verifies. Prints one JSON object.
/// </summary>
public static class XpuCheckCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("xpu-check", "Level Zero regions on this host's XPU: copies, dma-buf, two-process share; prints one JSON object");
        XpuCheckOptions.AddTo(command, socket: false);
        command.SetAction((parse, _) => RunAsync(XpuCheckOptions.From(parse)));
        return command;
    }

    private static async Task<int> RunAsync(XpuCheckOptions options)
    {
        var result = new Dictionary<string, object?> { ["bytes"] = options.Bytes, ["driver"] = options.Driver ?? "installed" };
        LevelZeroDevice device;
        try
        {
            device = options.OpenDevice();
        }
        catch (TransferException e)
        {
            Console.WriteLine(JsonSerializer.Serialize(XpuCheckOptions.Failure(e)));
            return 3;
        }
        using (device)
        {
            result["device"] = device.Name;
            result["uuid"] = Convert.ToHexString([.. device.Uuid]);
            var bytes = options.Bytes;
            var source = XpuCheckOptions.Pattern(bytes, 42);
            var sink = new byte[bytes];
            using (var region = LevelZeroDeviceRegion.Allocate(device, "xpu-check", bytes))
            using (var scratch = LevelZeroDeviceRegion.Allocate(device, "xpu-scratch", bytes))
            {
                result["h2d_gbps"] = Measure(() => region.Write(0, source), bytes);
                result["d2h_gbps"] = Measure(() => region.Read(0, sink), bytes);
                result["roundtrip_identical"] = source.AsSpan().SequenceEqual(sink);
                result["d2d_gbps"] = Measure(() => scratch.CopyFrom(region, 0, 0, bytes), bytes);
                Array.Clear(sink);
                scratch.Read(0, sink);
                result["d2d_identical"] = source.AsSpan().SequenceEqual(sink);
                try
                {
                    using var fd = region.ExportDmaBuf();
                    result["dmabuf_exported"] = !fd.IsInvalid;
                }
                catch (TransferException e)
                {
                    result["dmabuf_error"] = e.Message;
                }
            }
            await SplitWithPeerAsync(device, options, result);
        }
        Console.WriteLine(JsonSerializer.Serialize(result));
        var ok = result["roundtrip_identical"] is true && result["d2d_identical"] is true
            && result.GetValueOrDefault("peer_saw_owner_bytes") is true && result.GetValueOrDefault("peer_verified") is true;
        return ok ? 0 : 1;
    }

    private static async Task SplitWithPeerAsync(LevelZeroDevice device, XpuCheckOptions options, Dictionary<string, object?> result)
    {
        var dir = Directory.CreateTempSubdirectory("pdrdma-xpu-");
        var socketPath = Path.Combine(dir.FullName, "share.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        var peerArgs = new List<string> { "xpu-ipc-peer", (options.Bytes / (1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--socket", socketPath, "--paths", string.Join(',', options.Paths.Select(XpuCheckOptions.Name)) };
        if (options.Driver is not null) peerArgs.AddRange(["--driver", Path.GetFullPath(options.Driver)]);
        var info = PdrdmaProgram.Cli.StartInfo([.. peerArgs]);
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        using var peer = Process.Start(info) ?? throw new InvalidOperationException("could not start xpu-ipc-peer");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            using var connection = await Task.Run(listener.Accept, timeout.Token);
            connection.ReceiveTimeout = 60_000;
            using var window = await Task.Run(() => XpuSharing.Accept(connection, device, options.Bytes), timeout.Token);
            result["share_path"] = window.Path.ToString();
            var seen = new byte[options.Bytes];
            window.Read(0, seen);
            result["peer_saw_owner_bytes"] = seen.AsSpan().SequenceEqual(XpuCheckOptions.Pattern(options.Bytes, 7));
            var push = XpuCheckOptions.Pattern(options.Bytes, 43);
            result["push_gbps"] = Measure(() => window.Write(0, push), options.Bytes);
            await peer.StandardInput.WriteLineAsync($"done {Convert.ToHexString(XxHash3.Hash(push))}");
            await peer.StandardInput.FlushAsync(timeout.Token);
            var verdict = await peer.StandardOutput.ReadLineAsync(timeout.Token) ?? string.Empty;
            result["peer_verified"] = verdict.StartsWith("verified true", StringComparison.Ordinal);
            result["peer_said"] = verdict;
            await peer.WaitForExitAsync(timeout.Token);
        }
        catch (TransferException e)
        {
            result["share_error"] = e.Message;
        }
        catch (OperationCanceledException)
        {
            result["share_error"] = "the peer did not finish within 120 s";
        }
        finally
        {
            if (!peer.HasExited) peer.Kill(entireProcessTree: true);
            dir.Delete(recursive: true);
        }
    }

    private static double Measure(Action copy, long bytes)
    {
        copy();
        var best = double.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            copy();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return Math.Round(bytes * 8 / best / 1e9, 2);
    }
}
