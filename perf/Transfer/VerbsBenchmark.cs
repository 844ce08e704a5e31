using System.Globalization;
using PdRdma.Perf.Baselines;
using PdRdma.Perf.Reporting;
using PdRdma.Perf.Results;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Network;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// verbs between two Soft-RoCE VMs (vm/run-rdma-vms.sh, from the verbs branch): in one boot, on the same rxe devices,
/// ib_write_bw and ib_write_lat, then our bench-target (VM a) and bench-initiator (VM b) with the verbs backend.
/// The VMs run under TCG, so every rate is far below what the same code does on a NIC; the ratio is what counts.
/// Where the harness or qemu is missing the run says so instead of measuring.
/// </summary>
public static class VerbsBenchmark
{
    /// <summary>ib_write_bw -a stops at 8 MiB; our sizes follow the issue's 64 B to 4 MiB for verbs.</summary>
    public const long MaxBytes = 4 << 20;

    /// <summary>Bytes per KV-shaped batch between the VMs (the pattern's 64 MiB would take ~10 s per batch under TCG).</summary>
    public const long KvTotalBytes = 8 << 20;

    /// <summary>How long the VM pair may run.</summary>
    private const int VmSeconds = 900;

    public static async Task RunAsync(BenchRun run, TransferBenchOptions options, ProgressBar? progress, CancellationToken ct)
    {
        try
        {
            await MeasureAsync(run, options, progress, ct);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException or FormatException)
        {
            // the VMs run under TCG on whatever CPU is left: a timeout or a failed boot costs the verbs rows, not the run
            run.Notes.Add($"verbs: the VM run failed: {e.Message}");
        }
    }

    private static async Task MeasureAsync(BenchRun run, TransferBenchOptions options, ProgressBar? progress, CancellationToken ct)
    {
        var root = RepoRoot.Find() ?? ".";
        var harness = Path.Combine(root, "vm", "run-rdma-vms.sh");
        if (!File.Exists(harness))
        {
            run.Notes.Add("verbs: the Soft-RoCE VM harness (vm/run-rdma-vms.sh, branch verbs) is not in this tree yet");
            return;
        }
        var (check, checkOut, checkErr) = await ChildProcess.RunAsync(["bash", harness, "--check"], TimeSpan.FromSeconds(60), ct);
        if (check != 0)
        {
            run.Notes.Add($"verbs: the VM harness cannot run here: {(checkErr + checkOut).Trim()}");
            return;
        }
        progress?.Begin("verbs: booting two Soft-RoCE VMs (TCG; minutes)");
        var outDir = Path.Combine(Path.GetTempPath(), $"pdb-vm-{Environment.ProcessId}");
        Directory.CreateDirectory(outDir);
        var pattern = options.Plan.KvBlockBytes.Count > 0 || options.Plan.BatchOps.Count > 0 || options.QperfLatencyBytes > 0;
        var plan = options.Plan with
        {
            Sizes = pattern ? options.Plan.Sizes : SweepSizes(options.Plan.Sizes),
            // under TCG Soft-RoCE moves ~10 MB/s: 8 MiB per KV batch keeps a point within its budget
            KvTotalBytes = Math.Min(options.Plan.KvTotalBytes, KvTotalBytes),
            Budget = pattern ? options.Plan.Budget : TimeSpan.FromMilliseconds(600),
        };
        var dll = PdrdmaProgram.Bench.DllPath();
        var region = Math.Max(MaxBytes, plan.RegionBytes).ToString(CultureInfo.InvariantCulture);
        var done = Path.Combine(outDir, "initiator.done");
        // the baselines: ib_write_bw over the sizes (not for the patterns: kv compares with one extent of ours), and
        // ib_write_lat at the latency pattern's size (or every size)
        var latencyArgs = options.QperfLatencyBytes > 0 ? $"-s {options.QperfLatencyBytes} -n 300" : "-a -n 200";
        var serve = new List<string>();
        var measure = new List<string>();
        string Retry(string command) => $"i=0; until {command}; do i=$((i+1)); [ $i -ge 60 ] && break; sleep 1; done";
        if (!pattern)
        {
            serve.Add("ib_write_bw -d $PDRDMA_VM_RDMA_DEV -a -n 200 -F --report_gbits -p 45801 > $PDRDMA_VM_OUT/bw-server.txt 2>&1");
            measure.Add(Retry("ib_write_bw -d $PDRDMA_VM_RDMA_DEV -a -n 200 -F --report_gbits -p 45801 $PDRDMA_VM_PEER_IP > $PDRDMA_VM_OUT/bw.txt 2>&1"));
        }
        if (!pattern || options.QperfLatencyBytes > 0)
        {
            serve.Add($"ib_write_lat -d $PDRDMA_VM_RDMA_DEV {latencyArgs} -F -p 45802 > $PDRDMA_VM_OUT/lat-server.txt 2>&1");
            measure.Add(Retry($"ib_write_lat -d $PDRDMA_VM_RDMA_DEV {latencyArgs} -F -p 45802 $PDRDMA_VM_PEER_IP > $PDRDMA_VM_OUT/lat.txt 2>&1"));
        }
        // VM a serves our target until VM b says it is done; VM b runs our initiator twice in the same boot: batches
        // validated one by one (proceed round trip, as before issue 10), then under a grant (memory windows)
        serve.Add($"dotnet {dll} target --listen $PDRDMA_VM_IP:45803 --backend verbs --region-bytes {region} --exit-when-file {done}");
        var args = string.Join(' ', (plan with { Grant = false }).ToArgs());
        measure.Add(Retry($"dotnet {dll} initiator --peer $PDRDMA_VM_PEER_IP:45803 --backend verbs {args} > $PDRDMA_VM_OUT/proceed.jsonl 2>$PDRDMA_VM_OUT/proceed.err"));
        measure.Add(Retry($"dotnet {dll} initiator --peer $PDRDMA_VM_PEER_IP:45803 --backend verbs {args} --grant 1 > $PDRDMA_VM_OUT/ours.jsonl 2>$PDRDMA_VM_OUT/ours.err"));
        measure.Add($"touch {done}");
        var port = FreePorts.One().ToString(CultureInfo.InvariantCulture);
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(["bash", harness, "--out", outDir, "--timeout", VmSeconds.ToString(CultureInfo.InvariantCulture), "--port", port, "--", string.Join("; ", serve), string.Join("; ", measure)],
            TimeSpan.FromSeconds(VmSeconds + 40), ct, workingDirectory: root); // the guests see the host's root, but /tmp is their own
        progress?.Advance(60);
        InitiatorRecord[] Read(string name) => File.Exists(Path.Combine(outDir, name))
            ? File.ReadLines(Path.Combine(outDir, name)).Where(l => l.StartsWith('{')).Select(l => BenchJson.Parse<InitiatorRecord>(l)!).ToArray()
            : [];
        var ours = Read("ours.jsonl");
        var proceed = Read("proceed.jsonl");
        var bw = File.Exists(Path.Combine(outDir, "bw.txt")) ? PerftestParser.Parse(File.ReadAllText(Path.Combine(outDir, "bw.txt"))) : [];
        var lat = File.Exists(Path.Combine(outDir, "lat.txt")) ? PerftestParser.Parse(File.ReadAllText(Path.Combine(outDir, "lat.txt"))) : [];
        if (ours.All(r => r.Kind == "connected"))
        {
            var why = File.Exists(Path.Combine(outDir, "ours.err")) ? File.ReadAllText(Path.Combine(outDir, "ours.err")).Trim() : (stdout + stderr).Trim();
            var baselineOnly = bw.Count > 0 ? $"; ib_write_bw did run: {string.Join(", ", bw.Where(r => r.Bytes is 65536 or 1 << 20).Select(r => $"{Format.Bytes(r.Bytes)} {r.AverageGbps:F3} Gbit/s"))}" : "";
            run.Notes.Add($"verbs: no result from our initiator in the VMs within the time limit (harness exit {exit}){baselineOnly}: {Tail(why)}");
        }
        double Baseline(long bytes) => bw.FirstOrDefault(r => r.Bytes == bytes)?.AverageGbps ?? double.NaN;
        TransferBenchmark.Collect(run, new TransferBackendRun("verbs", "two-vms", null, ours), "ib_write_bw", Baseline);
        TransferBenchmark.Collect(run, new TransferBackendRun("verbs", "two-vms/proceed", null, proceed), "ib_write_bw", Baseline);
        foreach (var path in new[] { "two-vms", "two-vms/proceed" })
        {
            if (options.QperfLatencyBytes > 0 && lat.FirstOrDefault(r => r.Bytes == options.QperfLatencyBytes)?.TypicalLatencyUs is { } us)
                run.LatencyBaselines.Add(new LatencyBaselinePoint { Path = path, Baseline = "ib_write_lat", Bytes = options.QperfLatencyBytes, LatencyUs = us });
        }
        foreach (var record in ours.Where(r => r.Kind == "size" && r.LatencyP50Us is not null))
        {
            if (lat.FirstOrDefault(r => r.Bytes == record.Bytes)?.TypicalLatencyUs is { } typical)
            {
                run.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"verbs {Format.Bytes(record.Bytes)}: our write with its notification, acknowledged, p50 {record.LatencyP50Us:F1} µs vs ib_write_lat typical {typical:F1} µs (half a ping-pong)"));
            }
        }
    }

    private static IReadOnlyList<long> SweepSizes(IReadOnlyList<long> asked)
    {
        var kept = asked.Where(s => s <= MaxBytes).ToArray();
        return kept.Length > 0 ? kept : [64, 4096, 65536, 1 << 20];
    }

    /// <summary>The end of a long text on one line: notes land in one table cell of the report.</summary>
    private static string Tail(string text)
    {
        var line = string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= 300 ? line : "…" + line[^300..];
    }
}
