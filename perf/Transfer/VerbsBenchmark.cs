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
        var sizes = options.Plan.Sizes.Where(s => s <= MaxBytes).ToArray();
        if (sizes.Length == 0) sizes = [64, 4096, 65536, 1 << 20];
        var dll = PdrdmaProgram.Bench.DllPath();
        var region = Math.Max(MaxBytes, sizes.Max()).ToString(CultureInfo.InvariantCulture);
        var sizeList = string.Join(',', sizes.Select(s => s.ToString(CultureInfo.InvariantCulture)));
        var done = Path.Combine(outDir, "initiator.done");
        // VM a serves: perftest servers one after the other, then our target until VM b says it is done
        var target = string.Join("; ",
            "ib_write_bw -d $PDRDMA_VM_RDMA_DEV -a -n 200 -F --report_gbits -p 45801 > $PDRDMA_VM_OUT/bw-server.txt 2>&1",
            "ib_write_lat -d $PDRDMA_VM_RDMA_DEV -a -n 200 -F -p 45802 > $PDRDMA_VM_OUT/lat-server.txt 2>&1",
            $"dotnet {dll} target --listen $PDRDMA_VM_IP:45803 --backend verbs --region-bytes {region} --exit-when-file {done}");
        // VM b measures: each client retries until its server listens
        string Retry(string command) => $"i=0; until {command}; do i=$((i+1)); [ $i -ge 60 ] && break; sleep 1; done";
        var initiator = string.Join("; ",
            Retry("ib_write_bw -d $PDRDMA_VM_RDMA_DEV -a -n 200 -F --report_gbits -p 45801 $PDRDMA_VM_PEER_IP > $PDRDMA_VM_OUT/bw.txt 2>&1"),
            Retry("ib_write_lat -d $PDRDMA_VM_RDMA_DEV -a -n 200 -F -p 45802 $PDRDMA_VM_PEER_IP > $PDRDMA_VM_OUT/lat.txt 2>&1"),
            Retry($"dotnet {dll} initiator --peer $PDRDMA_VM_PEER_IP:45803 --backend verbs --sizes {sizeList} --budget-ms 600 --depth 16 > $PDRDMA_VM_OUT/ours.jsonl 2>$PDRDMA_VM_OUT/ours.err"),
            $"touch {done}");
        var port = FreePorts.One().ToString(CultureInfo.InvariantCulture);
        var (exit, stdout, stderr) = await ChildProcess.RunAsync(["bash", harness, "--out", outDir, "--timeout", "240", "--port", port, "--", target, initiator],
            TimeSpan.FromSeconds(280), ct, workingDirectory: root); // the guests see the host's root, but /tmp is their own
        progress?.Advance(60);
        var ours = File.Exists(Path.Combine(outDir, "ours.jsonl"))
            ? File.ReadLines(Path.Combine(outDir, "ours.jsonl")).Where(l => l.StartsWith('{')).Select(l => BenchJson.Parse<InitiatorRecord>(l)!).Where(r => r.Kind == "size").ToArray()
            : [];
        var bw = File.Exists(Path.Combine(outDir, "bw.txt")) ? PerftestParser.Parse(File.ReadAllText(Path.Combine(outDir, "bw.txt"))) : [];
        var lat = File.Exists(Path.Combine(outDir, "lat.txt")) ? PerftestParser.Parse(File.ReadAllText(Path.Combine(outDir, "lat.txt"))) : [];
        if (ours.Length == 0)
        {
            var why = File.Exists(Path.Combine(outDir, "ours.err")) ? File.ReadAllText(Path.Combine(outDir, "ours.err")).Trim() : (stdout + stderr).Trim();
            var baselineOnly = bw.Count > 0 ? $"; ib_write_bw did run: {string.Join(", ", bw.Where(r => r.Bytes is 65536 or 1 << 20).Select(r => $"{Format.Bytes(r.Bytes)} {r.AverageGbps:F3} Gbit/s"))}" : "";
            run.Notes.Add($"verbs: no result from our initiator in the VMs within the time limit (harness exit {exit}){baselineOnly}: {Tail(why)}");
        }
        foreach (var record in ours)
        {
            var baseline = bw.FirstOrDefault(r => r.Bytes == record.Bytes)?.AverageGbps ?? double.NaN;
            var latency = lat.FirstOrDefault(r => r.Bytes == record.Bytes);
            run.Transfer.Add(new TransferPoint
            {
                Backend = "verbs", Path = "two-vms", Bytes = record.Bytes, Gbps = Math.Round(record.Gbps, 4), Iterations = record.Iterations,
                Baseline = "ib_write_bw", BaselineGbps = Math.Round(baseline, 4), LatencyP50Us = record.LatencyP50Us, LatencyP99Us = record.LatencyP99Us,
            });
            if (latency?.TypicalLatencyUs is { } typical)
            {
                run.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"verbs {Format.Bytes(record.Bytes)}: our write completion p50 {record.LatencyP50Us:F1} µs (a round trip) vs ib_write_lat typical {typical:F1} µs (half a round trip)"));
            }
        }
    }

    /// <summary>The end of a long text on one line: notes land in one table cell of the report.</summary>
    private static string Tail(string text)
    {
        var line = string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= 300 ? line : "…" + line[^300..];
    }
}
