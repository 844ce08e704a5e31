using System.Diagnostics;
using System.Text.Json;
using PdRdma.Perf.E2e;
using PdRdma.Perf.Reporting;
using PdRdma.Perf.Results;
using PdRdma.Perf.Transfer;

namespace PdRdma.Perf;

/// <summary>Runs the parts of a benchmark run, keeps a progress bar on stderr, and writes the report files.</summary>
public static class BenchRunner
{
    public static async Task<BenchRun> RunAsync(BenchOptions options, Action<TransferPoint>? onTransfer, Action<E2ePoint>? onE2e, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        if (options.Budget is { } budget && options.E2e is { } e2eBudgeted)
        {
            // leave a minute for the report and the throughput run after the last point
            options = options with { E2e = e2eBudgeted with { Deadline = DateTimeOffset.UtcNow + budget - TimeSpan.FromMinutes(1.5) } };
        }
        var run = new BenchRun { StartedAt = DateTimeOffset.UtcNow, Machine = MachineInfo.Current() };
        var harnesses = options.E2e is { } e2eOptions ? await E2eHarnessFactory.CreateAsync(e2eOptions, run.Notes, ct) : [];
        try
        {
            var transfer = options.Transfer is { } t ? new TransferBenchmark(t, null) : null;
            var e2eWeight = harnesses.Sum(h => E2eWeight(h, options.E2e!));
            var progress = ProgressBar.ForStderr((transfer?.EstimatedSeconds ?? 0) + e2eWeight);
            if (transfer is not null)
            {
                await new TransferBenchmark(options.Transfer!, progress).RunAsync(run, ct);
                foreach (var point in run.Transfer) onTransfer?.Invoke(point);
            }
            if (harnesses.Count > 0)
            {
                await new E2eBenchmark(options.E2e!, progress).RunAsync(run, harnesses, onE2e, ct);
            }
            run.Targets.AddRange(TargetEvaluator.Evaluate(run));
            run.Duration = clock.Elapsed;
            run.Machine.LoadAverageAtEnd = MachineInfo.ReadLoadAverage();
            progress.Finish($"done in {run.Duration.TotalMinutes:F1} min");
        }
        finally
        {
            foreach (var harness in harnesses) await harness.DisposeAsync();
        }
        if (options.DocsDirectory is { } docs) WriteReport(run, docs);
        return run;
    }

    /// <summary>docs/BENCHMARKS.md, docs/bench/*.png and docs/bench/last-run.json.</summary>
    public static IReadOnlyList<string> WriteReport(BenchRun run, string docsDirectory)
    {
        var benchDir = Path.Combine(docsDirectory, "bench");
        Directory.CreateDirectory(benchDir);
        var plots = PlotWriter.WriteAll(run, benchDir);
        File.WriteAllText(Path.Combine(benchDir, "last-run.json"), JsonSerializer.Serialize(run, BenchJson.Indented));
        var markdown = MarkdownReportWriter.Render(run, plots.Select(p => "bench/" + p).ToArray());
        var path = Path.Combine(docsDirectory, "BENCHMARKS.md");
        // The layout-translation section comes from `./pdrdma bench-layout`; a full bench keeps its last run.
        var layout = Path.Combine(benchDir, "layout-translation.md");
        if (File.Exists(layout))
        {
            markdown = markdown.TrimEnd() + "\n\n<!-- layout-translation: written by ./pdrdma bench-layout -->\n" + File.ReadAllText(layout).TrimEnd() + "\n<!-- /layout-translation -->\n";
        }
        File.WriteAllText(path, markdown);
        return [path, .. plots.Select(p => Path.Combine(benchDir, p))];
    }

    /// <summary>The terminal summary: every table with data, then notes.</summary>
    public static string Summary(BenchRun run)
    {
        var text = new System.Text.StringBuilder();
        void Table(string title, TextTable table)
        {
            if (table.RowCount == 0) return;
            text.AppendLine().AppendLine(title).Append(table.ToTerminal());
        }
        Table("Transfer (Gbit/s)", ReportTables.Transfer(run.Transfer));
        Table("Batch size", ReportTables.Transfer(run.Batches));
        Table("KV-shaped: blocks vs one extent", ReportTables.KvShaped(run.KvShaped));
        Table("Region registration", ReportTables.Registration(run.Registration));
        Table("End to end", ReportTables.E2e(run.E2e));
        Table("Request throughput", ReportTables.Throughput(run.Throughput));
        Table("Targets", ReportTables.Targets(run));
        if (run.Notes.Count > 0)
        {
            text.AppendLine().AppendLine("Notes:");
            foreach (var note in run.Notes) text.AppendLine("  - " + note);
        }
        text.AppendLine().AppendLine($"Took {run.Duration.TotalMinutes:F1} min on {run.Machine.CpuModel} ({run.Machine.Cores} cores), kernel {run.Machine.Kernel}; " +
                                     $"load average {run.Machine.LoadAverage:F1} at the start, {run.Machine.LoadAverageAtEnd:F1} at the end.");
        return text.ToString();
    }

    private static double E2eWeight(IE2eHarness harness, E2eOptions options)
    {
        var lengths = options.PromptLengths.Where(p => p + options.MaxTokens <= harness.MaxSequenceLength).ToArray();
        var perLength = 1 + options.Backends.Count * (options.WithoutOverlapToo ? 2 : 1);
        return lengths.Sum(p => E2eBenchmark.Weight(harness, p) * perLength)
               + (lengths.Length > 0 ? E2eBenchmark.Weight(harness, lengths.Contains(512) ? 512 : lengths[0]) * options.ThroughputRequests * 2 : 0);
    }
}
