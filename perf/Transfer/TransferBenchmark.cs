using PdRdma.Perf.Baselines;
using PdRdma.Perf.Hosts;
using PdRdma.Perf.Reporting;
using PdRdma.Perf.Results;
using PdRdma.Hosting.Network;
using PdRdma.Hosting;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// The transfer part of <c>pdrdma bench</c>: for each backend and path, the plan between two processes, then the
/// baseline on the same path (memcpy for shm, iperf3 for tcp, ib_write_bw for verbs), all in the same run.
/// </summary>
public sealed class TransferBenchmark(TransferBenchOptions options, ProgressBar? progress)
{
    /// <summary>Rough seconds the part takes, for the progress bar.</summary>
    public double EstimatedSeconds
    {
        get
        {
            var plan = options.Plan;
            var points = plan.Sizes.Count * 1.6 + plan.BatchOps.Count * 1.6 + plan.KvBlockBytes.Count * 2.5;
            var perRun = points * plan.Budget.TotalSeconds + 4;
            var runs = options.Backends.Count(b => b != "verbs") + (options.Backends.Contains("tcp") && options.TcpBothPaths ? 1 : 0);
            var iperfRuns = plan.Sizes.Select(s => Math.Min(s, Iperf3Baseline.MaxBlockBytes)).Distinct().Count() + 1;
            var baselines = options.Backends.Contains("tcp") ? iperfRuns * (options.BaselineDuration.TotalSeconds + 0.5) * (options.TcpBothPaths ? 2 : 1) : 0;
            return runs * perRun + baselines + plan.Sizes.Count * 0.4 + (options.RegistrationMaxBytes > 0 ? 5 : 0);
        }
    }

    public async Task RunAsync(BenchRun run, CancellationToken ct)
    {
        NamespacePair? namespaces = null;
        try
        {
            foreach (var backend in options.Backends)
            {
                switch (backend)
                {
                    case "shm":
                        await RunShmAsync(run, ct);
                        break;
                    case "tcp":
                        var unavailable = options.LoopbackOnly ? "loopback asked for" : HostCapabilities.NamespacesUnavailableReason();
                        if (unavailable is null)
                        {
                            namespaces ??= await NamespacePair.CreateAsync("pdb", reachableFromRoot: false, ct);
                            await RunTcpAsync(run, BenchPath.TwoHosts(namespaces), ct);
                        }
                        else if (!options.LoopbackOnly)
                        {
                            run.Notes.Add($"tcp between two hosts skipped: {unavailable}; measured on loopback only");
                        }
                        if (unavailable is not null || options.TcpBothPaths) await RunTcpAsync(run, BenchPath.OneHost, ct);
                        break;
                    case "verbs":
                        await VerbsBenchmark.RunAsync(run, options, progress, ct);
                        break;
                    default:
                        throw new ArgumentException($"unknown backend '{backend}' (shm, tcp, verbs)");
                }
            }
            if (options.RegistrationMaxBytes > 0)
            {
                progress?.Begin("region registration vs size");
                await RegistrationBenchmark.RunAsync(run, options.RegistrationMaxBytes, ct);
                progress?.Advance(5);
            }
        }
        finally
        {
            if (namespaces is not null) await namespaces.DisposeAsync();
        }
    }

    private async Task RunShmAsync(BenchRun run, CancellationToken ct)
    {
        var result = await RunPairAsync("shm", BenchPath.OneHost, ct);
        // shm's latency target is against tcp on loopback: what a same-host peer would otherwise use
        await QperfAsync(run, BenchPath.OneHost, ct);
        if (!options.BandwidthBaselines)
        {
            Collect(run, result, "memcpy", _ => double.NaN);
            return;
        }
        progress?.Begin("memcpy baseline");
        using var memcpy = new MemcpyBaseline(options.Plan.RegionBytes);
        var cache = new Dictionary<long, double>();
        double Baseline(long bytes)
        {
            if (!cache.TryGetValue(bytes, out var gbps))
            {
                cache[bytes] = gbps = memcpy.MeasureGbps(bytes, TimeSpan.FromTicks(Math.Min(options.BaselineDuration.Ticks, TimeSpan.FromMilliseconds(300).Ticks)));
                progress?.Advance(0.4);
            }
            return gbps;
        }
        Collect(run, result, "memcpy", Baseline);
    }

    private async Task RunTcpAsync(BenchRun run, BenchPath path, CancellationToken ct)
    {
        var result = await RunPairAsync("tcp", path, ct);
        await QperfAsync(run, path, ct);
        if (!options.BandwidthBaselines)
        {
            Collect(run, result, "iperf3", _ => double.NaN);
            return;
        }
        var iperf = new Iperf3Baseline(path, FreePorts.One());
        var cache = new Dictionary<long, double>();
        var failed = false;
        async Task<double> BaselineAsync(long bytes)
        {
            var block = Math.Min(bytes, Iperf3Baseline.MaxBlockBytes);
            if (failed) return double.NaN;
            if (!cache.TryGetValue(block, out var gbps))
            {
                progress?.Begin($"iperf3 ({path.Name}, {Format.Bytes(block)} writes)");
                try
                {
                    cache[block] = gbps = (await iperf.MeasureAsync(block, options.BaselineDuration, ct)).ReceivedGbps;
                }
                catch (Exception e) when (e is InvalidOperationException or FormatException or TimeoutException)
                {
                    failed = true;
                    run.Notes.Add($"iperf3 baseline on {path.Name} failed: {e.Message}");
                    return double.NaN;
                }
                progress?.Advance(options.BaselineDuration.TotalSeconds + 0.5);
            }
            return gbps;
        }
        if (!Iperf3Baseline.IsInstalled)
        {
            run.Notes.Add("iperf3 is not installed (scripts/setup.sh installs it): tcp has no baseline in this run");
            failed = true;
        }
        var needed = result.Records.Select(r => r.Bytes).Distinct().ToArray();
        var baselines = new Dictionary<long, double>();
        foreach (var bytes in needed) baselines[bytes] = await BaselineAsync(bytes);
        Collect(run, result, "iperf3", b => baselines[b]);
    }

    private async Task QperfAsync(BenchRun run, BenchPath path, CancellationToken ct)
    {
        if (options.QperfLatencyBytes <= 0 || run.LatencyBaselines.Any(b => b.Path == path.Name)) return;
        if (!QperfBaseline.IsInstalled)
        {
            run.Notes.Add("qperf is not installed (scripts/setup.sh installs it): no latency baseline in this run");
            return;
        }
        progress?.Begin($"qperf tcp_lat ({path.Name})");
        try
        {
            var us = await QperfBaseline.TcpLatencyUsAsync(path, FreePorts.One(), options.QperfLatencyBytes, TimeSpan.FromSeconds(2), ct);
            run.LatencyBaselines.Add(new LatencyBaselinePoint { Path = path.Name, Baseline = "qperf tcp_lat", Bytes = options.QperfLatencyBytes, LatencyUs = us });
        }
        catch (InvalidOperationException e)
        {
            run.Notes.Add($"qperf baseline on {path.Name} failed: {e.Message}");
        }
        // What the .NET runtime itself costs for one round trip on the same path (blocking threads as qperf, then
        // awaited sockets): the bound the transport's latency is explained against.
        foreach (var mode in new[] { SocketPingPong.Mode.Blocking, SocketPingPong.Mode.Async })
        {
            progress?.Begin($"dotnet socket ping-pong, {mode} ({path.Name})");
            try
            {
                var (p50, _) = await DotnetPingPongBaseline.RoundTripUsAsync(path, FreePorts.One(), (int)Math.Min(options.QperfLatencyBytes, 1 << 20), mode, TimeSpan.FromSeconds(2), ct);
                run.LatencyBaselines.Add(new LatencyBaselinePoint { Path = path.Name, Baseline = DotnetPingPongBaseline.Name(mode), Bytes = options.QperfLatencyBytes, LatencyUs = p50 });
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.Text.Json.JsonException or KeyNotFoundException)
            {
                run.Notes.Add($"dotnet ping-pong ({mode}) on {path.Name} failed: {e.Message}");
            }
        }
    }

    private async Task<TransferBackendRun> RunPairAsync(string backend, BenchPath path, CancellationToken ct)
    {
        progress?.Begin($"{backend} ({path.Name}): starting target and initiator");
        var pointWeight = options.Plan.Budget.TotalSeconds * 1.6;
        return await TransferPair.RunAsync(backend, path, options.Plan, record =>
            progress?.Advance(record.Kind == "kv" ? options.Plan.Budget.TotalSeconds * 2.5 : pointWeight,
                $"{backend} ({path.Name}) {record.Kind} {Format.Bytes(record.Bytes)} x{record.Ops}: {Format.Sig(record.Gbps)} Gbit/s"), ct);
    }

    /// <summary>Turns the initiator's records into report points with their baselines.</summary>
    public static void Collect(BenchRun run, TransferBackendRun result, string baselineName, Func<long, double> baseline)
    {
        foreach (var r in result.Records)
        {
            switch (r.Kind)
            {
                case "size":
                case "batch":
                    var point = new TransferPoint
                    {
                        Backend = result.Backend, Path = result.Path, Bytes = r.Bytes, Ops = r.Ops, Gbps = Math.Round(r.Gbps, 4),
                        Baseline = baselineName, BaselineGbps = Math.Round(baseline(r.Bytes), 4), Iterations = r.Iterations,
                        LatencyP50Us = r.LatencyP50Us is { } p50 ? Math.Round(p50, 2) : null,
                        LatencyP99Us = r.LatencyP99Us is { } p99 ? Math.Round(p99, 2) : null,
                    };
                    (r.Kind == "size" ? run.Transfer : run.Batches).Add(point);
                    break;
                case "kv":
                    run.KvShaped.Add(new KvShapedPoint
                    {
                        Backend = result.Backend, Path = result.Path, BlockBytes = r.Bytes, Blocks = r.Ops,
                        BlocksGbps = Math.Round(r.Gbps, 4), ContiguousGbps = Math.Round(r.ContiguousGbps ?? 0, 4),
                    });
                    break;
            }
        }
    }
}
