using System.Globalization;
using PdRdma.Perf.Hosts;
using PdRdma.Perf.Reporting;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Network;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// Runs one transfer plan between two separate processes: <c>pdrdma bench target</c> where the path puts the target,
/// <c>pdrdma bench initiator</c> where it puts the initiator. Both are killed if anything fails or times out.
/// </summary>
public static class TransferPair
{
    public static async Task<TransferBackendRun> RunAsync(string backend, BenchPath path, TransferPlan plan, Action<InitiatorRecord>? onRecord, CancellationToken ct)
    {
        BenchSecret.EnsureForChildren();
        var port = FreePorts.One().ToString(CultureInfo.InvariantCulture);
        var targetLine = path.TargetCommand(PdrdmaProgram.Bench.Line("target",
            "--listen", $"{path.TargetAddress}:{port}", "--backend", backend, "--region-bytes", plan.RegionBytes.ToString(CultureInfo.InvariantCulture), "--data-mac", plan.DataMac ? "1" : "0"));
        await using var target = ChildProcess.Start($"bench target ({backend}, {path.Name})", targetLine, redirectStdin: true);
        var ready = await target.ExpectAsync("ready ", TimeSpan.FromSeconds(60), ct);
        var endpoint = ready["ready ".Length..].Trim();

        var initiatorLine = path.InitiatorCommand(PdrdmaProgram.Bench.Line(["initiator",
            "--peer", endpoint, "--backend", backend, .. plan.ToArgs()]));
        await using var initiator = ChildProcess.Start($"bench initiator ({backend}, {path.Name})", initiatorLine);
        var records = new List<InitiatorRecord>();
        string? reason = null;
        // a point takes about the budget twice (bandwidth, then latency), plus start-up and the region's first touch
        var quiet = plan.Budget * 4 + TimeSpan.FromSeconds(90);
        while (await initiator.ReadLineAsync(quiet, ct) is { } line)
        {
            if (!line.StartsWith('{')) continue;
            var record = BenchJson.Parse<InitiatorRecord>(line) ?? throw new FormatException($"bench-initiator printed '{line}'");
            if (record.Kind == "connected")
            {
                reason = record.BackendReason;
                if (record.Backend != backend)
                {
                    throw new InvalidOperationException($"asked for backend {backend} but the agent chose {record.Backend}: {record.BackendReason}");
                }
                continue;
            }
            records.Add(record);
            onRecord?.Invoke(record);
        }
        if (!await initiator.CloseInputAndWaitAsync(TimeSpan.FromSeconds(10)) || initiator.ExitCode != 0)
        {
            throw new InvalidOperationException($"bench-initiator ({backend}, {path.Name}) failed: {initiator.Stderr.Trim()}");
        }
        await target.CloseInputAndWaitAsync(TimeSpan.FromSeconds(10));
        return new TransferBackendRun(backend, path.Name, reason, records);
    }
}
