using System.CommandLine;
using System.Globalization;
using System.Net;
using PdRdma.Hosting.CommandLine;
using PdRdma.Perf.Baselines;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench pingpong --listen IP:PORT | --peer IP:PORT [--size N] [--mode blocking|async] [--seconds S]</c>
/// (hidden): the two ends of the raw .NET socket ping-pong that bounds what the runtime costs for one small round trip.
/// With --listen it echoes (prints <c>ready &lt;endpoint&gt;</c>); with --peer it measures and prints one JSON line.
/// </summary>
public static class BenchPingPongCommand
{
    private static readonly Option<IPEndPoint> Listen = CliOptions.EndPoint("--listen", "echo on this endpoint", required: false);
    private static readonly Option<IPEndPoint> Peer = CliOptions.EndPoint("--peer", "measure against this echo endpoint", required: false);
    private static readonly Option<int> Size = CliOptions.Int("--size", "message bytes each way", 64, 1, 1 << 20);
    private static readonly Option<SocketPingPong.Mode> Mode = CliOptions.Choice("--mode", "blocking threads (as qperf) or awaited socket operations", SocketPingPong.Mode.Blocking);
    private static readonly Option<int> Seconds = CliOptions.Int("--seconds", "how long to measure", 2, 1, 60);

    /// <summary>The command (internal: started by the latency pattern, not listed in help).</summary>
    public static Command Create()
    {
        var command = new Command("pingpong", "raw .NET socket ping-pong, the runtime's own round-trip cost") { Listen, Peer, Size, Mode, Seconds };
        command.Hidden = true;
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(Listen), parse.GetValue(Peer), parse.GetValue(Size), parse.GetValue(Mode), parse.GetValue(Seconds), ct));
        return command;
    }

    private static async Task<int> RunAsync(IPEndPoint? listen, IPEndPoint? peer, int size, SocketPingPong.Mode mode, int seconds, CancellationToken ct)
    {
        if ((listen is null) == (peer is null)) throw new UsageException("pingpong: give exactly one of --listen and --peer");
        if (listen is not null)
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _ = Task.Run(async () =>
            {
                try { await Console.In.ReadToEndAsync(stop.Token); } catch (OperationCanceledException) { }
                stop.Cancel();
            });
            try
            {
                await SocketPingPong.ServeAsync(listen, size, mode, Console.Out, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            return 0;
        }
        var (p50, p99, samples) = await SocketPingPong.MeasureAsync(peer!, size, mode, TimeSpan.FromSeconds(seconds), ct);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"p50_us\":{p50:0.###},\"p99_us\":{p99:0.###},\"samples\":{samples}}}"));
        return 0;
    }
}
