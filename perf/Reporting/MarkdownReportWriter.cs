using System.Text;
using PdRdma.Perf.Results;

namespace PdRdma.Perf.Reporting;

/// <summary>Writes docs/BENCHMARKS.md: the last run's numbers against the targets, the machine, and how to reproduce.</summary>
public static class MarkdownReportWriter
{
    public static string Render(BenchRun run, IReadOnlyList<string> plotFiles)
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks");
        md.AppendLine();
        md.AppendLine($"Written by `./pdrdma bench` on {run.StartedAt:yyyy-MM-dd HH:mm} UTC; the whole run took {run.Duration.TotalMinutes:F1} min. " +
                      "Every ratio compares two numbers measured in this same run on the same path. Rates are Gbit/s (10^9 bit/s).");
        md.AppendLine();
        md.AppendLine("## Machine");
        md.AppendLine();
        md.AppendLine($"- CPU: {run.Machine.CpuModel}, {run.Machine.Cores} cores");
        md.AppendLine($"- Memory: {run.Machine.MemoryBytes / (1L << 30)} GiB; kernel {run.Machine.Kernel}; {run.Machine.Os}; {run.Machine.Runtime}");
        md.AppendLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"- Load average (1 min): {run.Machine.LoadAverage:F1} at the start, {run.Machine.LoadAverageAtEnd:F1} at the end. Above the core count, other work shared the CPUs and every number here is lower and noisier than the machine can do; bandwidths are the best of three windows on both sides of each ratio for that reason."));
        md.AppendLine();
        md.AppendLine("## Targets");
        md.AppendLine();
        md.Append(ReportTables.Targets(run).ToMarkdown());
        md.AppendLine();
        Section(md, "Transfer: one-sided write bandwidth and latency vs message size",
            "Each size is written as batches of one write; up to 16 batches in flight (bandwidth, best of three windows), then one at a time (latency: " +
            "post → every byte placed on the target → acknowledged). Baselines on the same path: memcpy between two shared-memory " +
            "mappings (shm), iperf3 with the same write size capped at 1 MiB (tcp), ib_write_bw (verbs).",
            run.Transfer.Count > 0 ? ReportTables.Transfer(run.Transfer) : null);
        Section(md, "Transfer: batch size",
            "Writes of one size at non-adjacent offsets (never coalesced), many per batch: the per-descriptor cost.",
            run.Batches.Count > 0 ? ReportTables.Transfer(run.Batches) : null);
        Section(md, "KV-shaped: thousands of non-contiguous blocks vs one extent of the same bytes",
            "Blocks are every other block of a pool (so nothing coalesces), all in one batch; the contiguous case writes the same number of bytes as one extent.",
            run.KvShaped.Count > 0 ? ReportTables.KvShaped(run.KvShaped) : null);
        Section(md, "Region registration vs region size",
            "create+map: a /dev/shm file created, sized and mapped MAP_SHARED; register: TransferAgent.RegisterRegion; first touch: writing one byte per page.",
            run.Registration.Count > 0 ? ReportTables.Registration(run.Registration) : null);
        var e2eText = "TTFT is measured from the request until the decoding side holds the whole KV and the first token; TPOT is the mean time per " +
                      "token after that. Disaggregated: prefill in this process, decode in another process, KV written by the transfer " +
                      "library into blocks the decode engine reserved. Overlap: each layer's KV is posted as soon as that layer is computed; " +
                      "without it, all layers are posted after the prompt is done. Transfer share: the part of disaggregated TTFT not hidden behind compute.";
        if (run.E2eSetup.Count > 0) e2eText += "\n\n" + string.Join("\n", run.E2eSetup.Select(s => "- " + s));
        Section(md, "End to end: colocated vs disaggregated", e2eText, run.E2e.Count > 0 ? ReportTables.E2e(run.E2e) : null);
        Section(md, "Request throughput", "Several requests back to back; disaggregated prefill of the next request runs while the previous one decodes.",
            run.Throughput.Count > 0 ? ReportTables.Throughput(run.Throughput) : null);
        if (plotFiles.Count > 0)
        {
            md.AppendLine("## Plots");
            md.AppendLine();
            foreach (var plot in plotFiles) md.AppendLine($"![{Path.GetFileNameWithoutExtension(plot)}]({plot})");
            md.AppendLine();
        }
        if (run.Notes.Count > 0)
        {
            md.AppendLine("## Skipped or failed in this run");
            md.AppendLine();
            foreach (var note in run.Notes) md.AppendLine($"- {note}");
            md.AppendLine();
        }
        md.Append(HowToRun);
        return md.ToString();
    }

    private static void Section(StringBuilder md, string title, string text, TextTable? table)
    {
        md.AppendLine($"## {title}");
        md.AppendLine();
        md.AppendLine(text);
        md.AppendLine();
        md.AppendLine(table is null ? "_Not measured in this run (see below)._" : table.ToMarkdown());
        md.AppendLine();
    }

    private const string HowToRun = """
        ## How to run

        ```
        ./pdrdma bench                                   # everything (< 15 min on 2 cores), writes this file, docs/bench/*.png and .json
        ./pdrdma bench transfer --backend shm --json     # one JSON object per size: backend, bytes, gbps, baseline, baseline_gbps, ratio
        ./pdrdma bench transfer --backend tcp --size 1048576 --json
        ./pdrdma bench e2e --prompt-len 1024 --json      # prompt_len, ttft_ms_*, tpot_ms_*, ratios, transfer_share, backend
        ./pdrdma bench --quick                           # a short smoke run (fewer sizes and prompts)
        ```
        As root, tcp runs between two network namespaces (`pdb-a`, `pdb-b`) joined by veth (198.18.66.1 ↔ 198.18.66.2) and iperf3 runs over
        the same pair; without root both ends use loopback. The target side of every transfer is a separate process
        (`pdrdma bench-target`), started in the target's namespace.

        ## Between two real hosts with RDMA NICs

        The same two hidden commands run on two machines; nothing else is needed but the repository built on both and the
        RDMA device up (`ibv_devices`, `ibv_devinfo` show it active; `ulimit -l unlimited` for the user).

        ```
        # host B (target), e.g. 10.0.0.2 — prints "ready <endpoint>" and serves until stdin closes
        ./pdrdma bench-target --listen 10.0.0.2:45001 --backend verbs --region-bytes 268435456
        # host A (initiator): the sweep, one JSON line per size
        ./pdrdma bench-initiator --peer 10.0.0.2:45001 --backend verbs --sizes 64:268435456 --json
        # baselines on the same devices and path (perftest)
        ib_write_bw -d mlx5_0 -a -F --report_gbits            # on B
        ib_write_bw -d mlx5_0 -a -F --report_gbits 10.0.0.2   # on A
        ib_write_lat -d mlx5_0 -a -F                         # on B, then on A with B's address
        iperf3 -s -p 45002                                   # on B, then: iperf3 -c 10.0.0.2 -p 45002 -J -t 5 on A (tcp baseline)
        ```
        Compare `gbps` per size with ib_write_bw's `BW average[Gb/sec]` at the same size; `--backend tcp` against iperf3.
        Pin both processes to the NIC's NUMA node (`numactl -N <node> -m <node>`) as perftest would be.

        """;
}
