using System.Diagnostics;
using System.Net;
using PdRdma.Transport;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// The initiator side of a transfer benchmark (the <c>bench-initiator</c> process): connects a <see cref="TransferAgent"/>
/// to the target, runs a <see cref="TransferPlan"/> and reports each point. Batches are prepared once and posted many times.
/// </summary>
public sealed class TransferInitiator(TransferPlan plan, string backend, Action<InitiatorRecord> report)
{
    private const string SourceRegion = "bench-src";
    private const string TargetRegion = TransferTarget.RegionId;

    public async Task RunAsync(EndPoint peer, CancellationToken ct)
    {
        // region files carry the process id, so the two ends never share a file even on one host
        using var source = HostRegion.Create(SourceRegion, plan.RegionBytes);
        Fill(source);
        await using var agent = new TransferAgent(new TransferAgentOptions
        {
            NodeId = $"bench-initiator-{Environment.ProcessId}", Backend = BenchBackends.ToChoice(backend),
            ClusterSecret = BenchSecret.FromEnvironment(), AuthenticateData = plan.DataMac,
        });
        agent.RegisterRegion(source);
        await using var connection = await agent.ConnectAsync(peer, ct);
        report(new InitiatorRecord { Kind = "connected", Backend = connection.Backend, BackendReason = connection.BackendReason });

        foreach (var size in plan.Sizes)
        {
            var batches = Slots(size, 1, size);
            var (gbps, iterations) = await BandwidthAsync(connection, batches, size, ct);
            (double P50, double P99)? latency = size <= plan.LatencyMaxBytes ? await LatencyAsync(connection, batches, ct) : null;
            report(new InitiatorRecord
            {
                Kind = "size", Backend = connection.Backend, Bytes = size, Gbps = gbps, Iterations = iterations,
                LatencyP50Us = latency?.P50, LatencyP99Us = latency?.P99,
            });
        }

        foreach (var ops in plan.BatchOps)
        {
            // every other slot, so that the writes of a batch never touch and cannot be coalesced
            var batches = new[] { Batch(Enumerable.Range(0, ops).Select(i => Op(2L * i * plan.BatchWriteBytes, plan.BatchWriteBytes)).ToArray()) };
            var (gbps, iterations) = await BandwidthAsync(connection, batches, plan.BatchWriteBytes * ops, ct);
            var latency = await LatencyAsync(connection, batches, ct);
            report(new InitiatorRecord
            {
                Kind = "batch", Backend = connection.Backend, Bytes = plan.BatchWriteBytes, Ops = ops, Gbps = gbps, Iterations = iterations,
                LatencyP50Us = latency.P50, LatencyP99Us = latency.P99,
            });
        }

        foreach (var block in plan.KvBlockBytes)
        {
            var count = (int)(plan.KvTotalBytes / block);
            var blocks = new[] { Batch(Enumerable.Range(0, count).Select(i => Op(2L * i * block, block)).ToArray()) };
            var extent = new[] { Batch([Op(0, count * block)]) };
            // the blocks and the one extent in alternating windows, best of each: a burst of other work on a shared
            // machine then falls on both alike instead of on one of them
            double blocksGbps = 0, extentGbps = 0;
            var iterations = 0;
            for (var window = 0; window < 3; window++)
            {
                var (b, n) = await BandwidthAsync(connection, blocks, count * block, ct, windows: 1);
                var (e, _) = await BandwidthAsync(connection, extent, count * block, ct, windows: 1);
                blocksGbps = Math.Max(blocksGbps, b);
                extentGbps = Math.Max(extentGbps, e);
                iterations += n;
            }
            report(new InitiatorRecord { Kind = "kv", Backend = connection.Backend, Bytes = block, Ops = count, Gbps = blocksGbps, ContiguousGbps = extentGbps, Iterations = iterations });
        }
    }

    /// <summary>A few batches of one write each at different offsets, so that small writes do not all hit one cache line.</summary>
    private WriteBatch[] Slots(long size, int ops, long stride)
    {
        var slots = (int)Math.Clamp(plan.RegionBytes / stride, 1, 16);
        return Enumerable.Range(0, slots).Select(s => Batch([Op(s * stride, size)])).ToArray();
    }

    private WriteBatch Batch(IReadOnlyList<WriteOp> ops) => new(ops, Grant: plan.Grant ? BenchGrant.Name : null);

    private static WriteOp Op(long offset, long length) => new(SourceRegion, offset, TargetRegion, offset, length);

    /// <summary>
    /// The best of <paramref name="windows"/> windows of a third of the budget each, with <see cref="TransferPlan.Depth"/> batches in flight:
    /// on a shared machine the best window is the one least disturbed by other work (the baselines are taken the same way).
    /// </summary>
    private async Task<(double Gbps, int Iterations)> BandwidthAsync(PeerConnection connection, WriteBatch[] batches, long batchBytes, CancellationToken ct, int windows = 3)
    {
        await connection.WriteAsync(batches[0], ct); // warm-up: first-touch page faults, connection ramp-up
        var best = 0.0;
        var total = 0;
        for (var window = 0; window < windows; window++)
        {
            var inFlight = new Queue<Task>(plan.Depth);
            var posted = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < plan.Budget / 3 || posted < 2)
            {
                if (inFlight.Count >= plan.Depth) await inFlight.Dequeue();
                inFlight.Enqueue(connection.WriteAsync(batches[(total + posted) % batches.Length], ct));
                posted++;
            }
            while (inFlight.Count > 0) await inFlight.Dequeue();
            best = Math.Max(best, posted * batchBytes * 8 / clock.Elapsed.TotalSeconds / 1e9);
            total += posted;
        }
        return (best, total);
    }

    private async Task<(double P50, double P99)> LatencyAsync(PeerConnection connection, WriteBatch[] batches, CancellationToken ct)
    {
        var samples = new List<double>();
        var clock = Stopwatch.StartNew();
        var budget = plan.Budget / 2;
        while ((clock.Elapsed < budget || samples.Count < 5) && samples.Count < 20_000)
        {
            var start = Stopwatch.GetTimestamp();
            await connection.WriteAsync(batches[samples.Count % batches.Length], ct);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        samples.Sort();
        return (Percentile(samples, 0.5), Percentile(samples, 0.99));
    }

    internal static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(q * sorted.Count))];

    private static void Fill(HostRegion region)
    {
        var random = new Random(11);
        for (long offset = 0; offset < region.Length; offset += 1 << 20)
        {
            random.NextBytes(region.AsSpan(offset, (int)Math.Min(1 << 20, region.Length - offset)));
        }
    }
}
