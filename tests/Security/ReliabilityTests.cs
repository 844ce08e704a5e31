using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using PdRdma.Hosting.Clusters;
using PdRdma.Hosting.Processes;
using PdRdma.Daemon.Client;
using PdRdma.Daemon.Protocol;
using PdRdma.Tests.Daemon;
using PdRdma.Transport;

namespace PdRdma.Tests.Security;

/// <summary>
/// The reliability cases of issue 11 against real daemon processes: a link cut mid-transfer, a daemon restarted under
/// live engines, a notification whose data was dropped on the way.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReliabilityTests
{
    private static async Task<DaemonClient> WaitForDaemonAsync(ChildProcess process, string socket)
    {
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            if (process.HasExited) throw new InvalidOperationException($"daemon exited:\n{process.Tail()}");
            if (!File.Exists(socket)) continue;
            try
            {
                var client = await DaemonClient.ConnectAsync(socket, CancellationToken.None);
                await client.StatusAsync(CancellationToken.None);
                return client;
            }
            catch (TransferException)
            {
            }
        }
        throw new TimeoutException($"daemon did not start:\n{process.Tail()}");
    }

    private static void Run(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in command[1..]) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(10_000) || p.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', command)} failed: {err}");
    }

    [RootFact]
    public async Task ALinkCutMidTransferFailsTheBatchWithPeerLostAndALaterBatchSucceeds_Root()
    {
        // 16 MiB of KV from node A to node B, the veth between them slowed to 40 Mbit/s so that the cut lands mid-batch.
        var layout = new KvLayout(layers: 2, kvHeads: 8, headDim: 128, tokensPerBlock: 16, KvDType.Float32, blocks: 64);
        var folder = TestPaths.Scratch("cut");
        var secret = TestPaths.SecretFile(folder);
        var suffix = RandomNumberGenerator.GetHexString(6, lowercase: true);
        string nsA = $"pds-{suffix}-a", nsB = $"pds-{suffix}-b", vethA = $"pds{suffix}a", vethB = $"pds{suffix}b";
        var subnet = Random.Shared.Next(100, 200);
        string addressA = $"198.18.{subnet}.1", addressB = $"198.18.{subnet}.2";
        try
        {
            Run("ip", "netns", "add", nsA);
            Run("ip", "netns", "add", nsB);
            Run("ip", "link", "add", vethA, "type", "veth", "peer", "name", vethB);
            Run("ip", "link", "set", vethA, "netns", nsA);
            Run("ip", "link", "set", vethB, "netns", nsB);
            Run("ip", "-n", nsA, "addr", "add", addressA + "/24", "dev", vethA);
            Run("ip", "-n", nsB, "addr", "add", addressB + "/24", "dev", vethB);
            foreach (var (ns, dev) in new[] { (nsA, vethA), (nsB, vethB) })
            {
                Run("ip", "-n", ns, "link", "set", dev, "up");
                Run("ip", "-n", ns, "link", "set", "lo", "up");
            }
            ChildProcess Start(string ns, string node, string address) => ChildProcess.Start(node,
                ["ip", "netns", "exec", ns, .. PdrdmaProgram.Cli.Line(), "daemon", "--node-id", node, "--socket", Path.Combine(folder, node + ".sock"),
                 "--group", "", "--peer-listen", $"{address}:46100", "--http-listen", "127.0.0.1:46190", "--secret-file", secret,
                 "--backend", "tcp", "--heartbeat", "1"], Path.Combine(folder, node + ".log"));
            using var daemonA = Start(nsA, "node-a", addressA);
            using var daemonB = Start(nsB, "node-b", addressB);
            await using var engineA = await WaitForDaemonAsync(daemonA, Path.Combine(folder, "node-a.sock"));
            await using var engineB = await WaitForDaemonAsync(daemonB, Path.Combine(folder, "node-b.sock"));
            using var source = HostRegion.Create("src", layout.TotalBytes, folder);
            using var target = HostRegion.Create("dst", layout.TotalBytes, folder);
            RandomNumberGenerator.Fill(source.AsSpan(0, (int)layout.TotalBytes));
            await engineA.RegisterPoolAsync("src", source, layout, CancellationToken.None);
            await engineB.RegisterPoolAsync("dst", target, layout, CancellationToken.None);
            await engineB.SubscribeAsync(CancellationToken.None);
            var blocks = Enumerable.Range(0, layout.Blocks).ToArray();
            await engineB.ReserveAsync("r1", "dst", blocks, "node-a", TimeSpan.FromSeconds(120), CancellationToken.None);
            WriteRequest Write(bool final = false, string request = "r1") => new()
            {
                RequestId = request, SourcePoolId = "src", TargetEndpoint = $"{addressB}:46100", TargetPoolId = "dst", TargetLayout = layout,
                Layers = [0, 1], SourceBlocks = blocks, TargetBlocks = blocks, Final = final, TotalBytes = layout.TotalBytes,
            };

            // The link is up and authenticated before the cut (one block), so that the cut hits a batch on a live link.
            await engineA.WriteAsync(new WriteRequest
            {
                RequestId = "r1", SourcePoolId = "src", TargetEndpoint = $"{addressB}:46100", TargetPoolId = "dst", TargetLayout = layout,
                Layers = [0], SourceBlocks = [0], TargetBlocks = [0],
            }, CancellationToken.None);
            Run("tc", "-n", nsA, "qdisc", "add", "dev", vethA, "root", "tbf", "rate", "40mbit", "burst", "64kb", "latency", "2s");
            var inFlight = engineA.WriteAsync(Write(), CancellationToken.None);
            await Task.Delay(1000);
            Assert.False(inFlight.IsCompleted, "the batch finished before the link was cut");
            Run("ip", "-n", nsB, "link", "set", vethB, "down");
            var error = await Assert.ThrowsAsync<TransferException>(() => inFlight.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.True(error.Code == TransferErrorCode.PeerLost, $"{error.Code}: {error.Message}");
            Assert.Equal(0, await PendingArrivals(engineB)); // nothing was announced

            Run("ip", "-n", nsB, "link", "set", vethB, "up");
            Run("tc", "-n", nsA, "qdisc", "del", "dev", vethA, "root");
            // The failed request is never announced; the KV goes again under a new lease.
            var refused = await Assert.ThrowsAsync<TransferException>(() => engineA.WriteAsync(Write(final: true), CancellationToken.None));
            Assert.Contains("earlier write of request r1 failed", refused.Message);
            await engineB.ReleaseAsync("r1", CancellationToken.None);
            Written written = null!;
            var request = "";
            for (var attempt = 0; ; attempt++)
            {
                // Each attempt is a request of its own: one whose write failed is never announced.
                request = $"r2-{attempt}";
                await engineB.ReserveAsync(request, "dst", blocks, "node-a", TimeSpan.FromSeconds(120), CancellationToken.None);
                try
                {
                    written = await engineA.WriteAsync(Write(request: request), CancellationToken.None);
                    break;
                }
                catch (TransferException e) when (attempt < 20 && e.Code is TransferErrorCode.PeerLost or TransferErrorCode.Timeout)
                {
                    await engineB.ReleaseAsync(request, CancellationToken.None);
                    await Task.Delay(500); // the carrier is back a moment after the link is set up
                }
            }
            Assert.Equal(layout.TotalBytes, written.Bytes);
            await engineA.WriteAsync(Write(final: true, request: request), CancellationToken.None);
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Assert.Equal(request, Assert.IsType<Arrived>(await engineB.Events.ReadAsync(bound.Token)).RequestId);
            Assert.True(source.AsSpan(0, (int)layout.TotalBytes).SequenceEqual(target.AsSpan(0, (int)layout.TotalBytes)), "the KV after the retry differs from the source");
        }
        finally
        {
            foreach (var ns in new[] { nsA, nsB })
                try { Run("ip", "netns", "del", ns); } catch (InvalidOperationException) { }
        }
    }

    private static async Task<int> PendingArrivals(DaemonClient engine)
    {
        await Task.Delay(500);
        var count = 0;
        while (engine.Events.TryRead(out var message)) if (message is Arrived) count++;
        return count;
    }

    [Fact]
    public Task ANotificationIsNeverDeliveredWhenItsDataIsDropped() => NeverAnnouncedDamagedAsync(DroppingRelay.Fault.Hole, DroppingRelay.Fault.Cut);

    /// <summary>A flipped data byte is placed and announced today: tcp data chunks carry no MAC or checksum yet.</summary>
    [Fact]
    public Task ANotificationIsNeverDeliveredWhenItsDataIsAltered() => NeverAnnouncedDamagedAsync(DroppingRelay.Fault.Flip);

    private static async Task NeverAnnouncedDamagedAsync(params DroppingRelay.Fault[] faults)
    {
        var layout = new KvLayout(layers: 1, kvHeads: 4, headDim: 64, tokensPerBlock: 16, KvDType.Float32, blocks: 16);
        var folder = TestPaths.Scratch("drop");
        var secret = RandomNumberGenerator.GetBytes(32);
        using var daemon = await DaemonProcess.StartAsync(folder, "node-b", TestPaths.SecretFile(folder, secret), extra: ["--backend", "tcp"]);
        using var pool = HostRegion.Create("pool", layout.TotalBytes, folder);
        await using var engine = await DaemonClient.ConnectAsync(daemon.Socket, CancellationToken.None);
        await engine.RegisterPoolAsync("pool", pool, layout, CancellationToken.None);
        await engine.SubscribeAsync(CancellationToken.None);
        var blocks = Enumerable.Range(0, layout.Blocks).ToArray();

        using var source = HostRegion.Create("src", layout.TotalBytes, folder);
        RandomNumberGenerator.Fill(source.AsSpan(0, (int)layout.TotalBytes));
        await using var peer = new TransferAgent(new TransferAgentOptions { NodeId = "node-a", ClusterSecret = secret, Backend = BackendChoice.Tcp });
        peer.RegisterRegion(source);
        await peer.StartAsync(CancellationToken.None);
        var notice = MessagePack.MessagePackSerializer.Serialize(new PdRdma.Daemon.Peers.PeerNotice { Kind = PdRdma.Daemon.Peers.PeerNoticeKind.Arrived, RequestId = "r", Bytes = layout.TotalBytes }, FrameCodec.Options);
        WriteBatch Batch() => new(blocks.SelectMany(b => new[] { KvPart.Key, KvPart.Value }.Select(part => layout.Extent(0, part, b)))
            .Select(e => new WriteOp("src", e.Offset, "pool", e.Offset, layout.BlockBytes)).ToList(), notice);

        // Ways of losing data on the path: a hole in the middle, the tail cut off, a flipped byte.
        foreach (var fault in faults)
        {
            pool.AsSpan(0, (int)layout.TotalBytes).Clear();
            await engine.ReserveAsync("r", "pool", blocks, "node-a", TimeSpan.FromSeconds(60), CancellationToken.None);
            await using var relay = DroppingRelay.Start(IPEndPoint.Parse(daemon.PeerEndpoint));
            await using (var link = await peer.ConnectAsync(relay.Endpoint, CancellationToken.None))
            {
                relay.Arm(fault, after: 64 << 10, length: 4096); // inside the batch's data
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await link.WriteAsync(Batch(), bound.Token);
                }
                catch (Exception e) when (e is TransferException or OperationCanceledException)
                {
                }
            }
            Assert.True(relay.Faulted, $"{fault}: the relay never reached the data");
            var arrivals = await PendingArrivals(engine);
            Assert.True(arrivals == 0, $"{fault}: the notification was delivered although its data was damaged on the way");
            Assert.False(pool.AsSpan(0, (int)layout.TotalBytes).SequenceEqual(source.AsSpan(0, (int)layout.TotalBytes)), $"{fault}: all data arrived despite the fault");
            await engine.ReleaseAsync("r", CancellationToken.None);
        }

        // The same batch over a clean path is announced, with all its data.
        await engine.ReserveAsync("r", "pool", blocks, "node-a", TimeSpan.FromSeconds(60), CancellationToken.None);
        await using (var link = await peer.ConnectAsync(IPEndPoint.Parse(daemon.PeerEndpoint), CancellationToken.None))
            await link.WriteAsync(Batch(), CancellationToken.None);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal("r", Assert.IsType<Arrived>(await engine.Events.ReadAsync(wait.Token)).RequestId);
        Assert.True(pool.AsSpan(0, (int)layout.TotalBytes).SequenceEqual(source.AsSpan(0, (int)layout.TotalBytes)), "the clean batch's data differs from its source");
    }

    [Fact]
    public async Task ADaemonRestartedUnderLiveEnginesGetsThemBack()
    {
        await using var cluster = await LocalCluster.StartAsync(new ClusterSpec { Prefix = "pdr", Namespaces = false, Model = "toy" }, CancellationToken.None);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var expected = await Serving.Completions.TextAsync(http, cluster.ColocatedUrl, "before and after", 6);
        Assert.Equal(expected, await Serving.Completions.TextAsync(http, cluster.ProxyUrl, "before and after", 6));
        var engines = new[] { "prefill", "decode" }.ToDictionary(n => n, n => cluster.Parts[n].Id);

        foreach (var daemon in new[] { "daemon-b", "daemon-a" })
        {
            await cluster.Parts[daemon].StopAsync(TimeSpan.FromSeconds(20));
            await cluster.StartPartAsync(daemon, CancellationToken.None);
            // The engines stayed up: on their next call they reconnect and register their pools again.
            var clock = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    if (await Serving.Completions.TextAsync(http, cluster.ProxyUrl, "before and after", 6) == expected) break;
                }
                catch (Exception e) when (e is Xunit.Sdk.XunitException or HttpRequestException)
                {
                }
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no identical answer within 60 s of restarting {daemon}");
                await Task.Delay(500);
            }
            var health = await Serving.Completions.HealthAsync(http, daemon == "daemon-a" ? cluster.DaemonAHealth : cluster.DaemonBHealth);
            Assert.NotEqual(0, health.GetProperty("pools").GetArrayLength());
            foreach (var (name, pid) in engines)
                Assert.Equal(pid, cluster.Parts[name].Id);
        }
    }
}
