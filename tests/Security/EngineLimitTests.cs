using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PdRdma.Daemon.Client;
using PdRdma.Daemon.Protocol;
using PdRdma.Tests.Daemon;
using PdRdma.Transport;

namespace PdRdma.Tests.Security;

/// <summary>
/// What one engine can make a real daemon process hold is bounded, each limit with a typed refusal and a metric; one
/// engine that stops reading never holds up another; SIGTERM stops the daemon within its drain bound under load.
/// (issue 11, "limits on everything", daemon side)
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class EngineLimitTests
{
    private static readonly KvLayout Layout = new(layers: 1, kvHeads: 1, headDim: 4, tokensPerBlock: 4, KvDType.Float32, blocks: 1024);

    /// <summary>A TCP port that accepts and then never says a word: a peer daemon whose handshake never ends.</summary>
    private static Socket Blackhole(out string endpoint)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(512);
        endpoint = listener.LocalEndPoint!.ToString()!;
        return listener;
    }

    private static async Task<string> MetricsAsync(DaemonProcess daemon)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await http.GetStringAsync(daemon.Metrics);
    }

    private static double Metric(string text, string series)
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task RequestsBeyondTheSessionLimitAreRefusedWithOverloaded()
    {
        var folder = TestPaths.Scratch("limit");
        using var daemon = await DaemonProcess.StartAsync(folder, "node-l", TestPaths.SecretFile(folder),
            extra: ["--max-requests-per-engine", "4", "--connect-timeout", "5", "--handshake-timeout", "5"]);
        using var hole = Blackhole(out var endpoint);
        await using var engine = await RawEngine.ConnectAsync(daemon.Socket);
        for (var i = 1; i <= 12; i++)
            await engine.SendAsync(i, new WriteRequest { RequestId = $"r{i}", TargetEndpoint = endpoint, TargetPoolId = "p", Final = true });
        var replies = new List<ErrorReply>();
        while (replies.Count < 12)
        {
            var frame = await engine.ReadAsync(TimeSpan.FromSeconds(30));
            Assert.NotNull(frame);
            replies.Add(Assert.IsType<ErrorReply>(frame.Message));
        }
        Assert.Equal(8, replies.Count(r => r.Code == (int)TransferErrorCode.Overloaded));
        Assert.All(replies.Where(r => r.Code == (int)TransferErrorCode.Overloaded), r => Assert.Contains("4 requests in work", r.Message));
        Assert.Equal(4, replies.Count(r => r.Code is (int)TransferErrorCode.PeerLost or (int)TransferErrorCode.Timeout));
        Assert.Equal(8, Metric(await MetricsAsync(daemon), "pdrdma_daemon_refused_requests_total{limit=\"requests_per_engine\"}"));
        // The session is still served.
        Assert.IsType<StatusReply>(await engine.CallAsync(100, new StatusRequest()));
    }

    [Fact]
    public async Task AnEngineThatStopsReadingHoldsUpNoOtherAndIsDisconnected()
    {
        var folder = TestPaths.Scratch("slow");
        using var daemon = await DaemonProcess.StartAsync(folder, "node-s", TestPaths.SecretFile(folder),
            extra: ["--max-queued-events", "16", "--engine-send-timeout", "60"]);
        using var slowPool = HostRegion.Create("slow", Layout.TotalBytes, folder);
        using var goodPool = HostRegion.Create("good", Layout.TotalBytes, folder);

        // The slow engine: registers, subscribes, asks for 300 short leases and a flood of status, and never reads again.
        await using var slow = await RawEngine.ConnectAsync(daemon.Socket);
        await slow.SendWithDescriptorAsync(1, new RegisterPoolRequest { PoolId = "slow", Length = Layout.TotalBytes, Layout = Layout }, slowPool.FileHandle);
        Assert.IsType<PoolRegistered>((await slow.ReadAsync(TimeSpan.FromSeconds(30)))?.Message);
        Assert.IsType<OkReply>(await slow.CallAsync(2, new SubscribeRequest { All = true }));
        for (var i = 0; i < 300; i++)
            await slow.SendAsync(10 + i, new ReserveRequest { RequestId = $"slow-{i}", PoolId = "slow", Blocks = [i], PeerNodeId = "node-x", TtlMs = 200 });
        var flood = Task.Run(async () =>
        {
            for (var i = 0; i < 5000; i++) await slow.SendAsync(1000 + i, new StatusRequest { Verbose = true });
        });

        // Another engine on the same daemon is served at once, events included.
        await using var good = await DaemonClient.ConnectAsync(daemon.Socket, CancellationToken.None);
        await good.RegisterPoolAsync("good", goodPool, Layout, CancellationToken.None);
        await good.SubscribeAsync(CancellationToken.None);
        for (var round = 0; round < 3; round++)
        {
            await good.ReserveAsync($"good-{round}", "good", [round], "node-x", TimeSpan.FromMilliseconds(300), CancellationToken.None);
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var ended = await good.Events.ReadAsync(bound.Token);
            Assert.Equal($"good-{round}", Assert.IsType<LeaseEnded>(ended).RequestId);
            await good.StatusAsync(bound.Token);
        }

        // The slow engine overflowed its event queue: the daemon closed it and counted why.
        var closed = false;
        for (var i = 0; i < 100 && !closed; i++)
        {
            closed = Metric(await MetricsAsync(daemon), "pdrdma_daemon_engine_sessions_closed_total{reason=\"events_full\"}") >= 1;
            if (!closed) await Task.Delay(100);
        }
        Assert.True(closed, "the engine that stopped reading was not disconnected");
        await flood.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default); // its sends fail once closed
        Assert.Contains("engine did not read its events", daemon.Process.Tail(400));
        Assert.IsType<StatusReply>(await good.StatusAsync(CancellationToken.None));
    }

    [Fact]
    public async Task SigtermStopsTheDaemonWithinItsDrainBoundUnderLoad()
    {
        var folder = TestPaths.Scratch("termload");
        using var daemon = await DaemonProcess.StartAsync(folder, "node-t", TestPaths.SecretFile(folder),
            extra: ["--drain", "2", "--connect-timeout", "120", "--handshake-timeout", "120"]);
        using var hole = Blackhole(out var endpoint);
        // Load: writes that never finish (their peer never answers), an engine flooding without reading, idle connections.
        await using var writer = await DaemonClient.ConnectAsync(daemon.Socket, CancellationToken.None);
        var writes = Enumerable.Range(0, 100).Select(i => writer.WriteAsync(
            new WriteRequest { RequestId = $"w{i}", TargetEndpoint = endpoint, TargetPoolId = "p", Final = true }, CancellationToken.None)).ToList();
        await using var flooder = await RawEngine.ConnectAsync(daemon.Socket);
        var flood = Task.Run(async () =>
        {
            for (var i = 0; i < 20000; i++) await flooder.SendAsync(1 + i, new StatusRequest { Verbose = true });
        });
        var idle = new List<RawEngine>();
        for (var i = 0; i < 50; i++) idle.Add(await RawEngine.ConnectAsync(daemon.Socket));
        await Task.Delay(1000);

        var clock = Stopwatch.StartNew();
        using (var term = Process.Start("kill", ["-TERM", daemon.Process.Id.ToString(CultureInfo.InvariantCulture)])) await term!.WaitForExitAsync();
        using (var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30))) await daemon.Process.WaitForExitAsync(bound.Token);
        // Drain (2 s) plus the fixed steps after it (abort, close sessions and links: ≤ 2 s each) and process exit.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"daemon took {clock.Elapsed.TotalSeconds:0.0} s to stop after SIGTERM with a 2 s drain");
        foreach (var write in writes)
        {
            var e = await Assert.ThrowsAsync<TransferException>(() => write.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(TransferErrorCode.PeerLost, e.Code);
        }
        await flood.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);
        foreach (var engine in idle) await engine.DisposeAsync();
    }
}
