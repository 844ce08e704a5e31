using System.Globalization;
using PdRdma.Perf.Reporting;
using ScottPlot;

namespace PdRdma.Perf.Serving;

/// <summary>The serving benchmark's table (terminal or Markdown) and PNG plot.</summary>
public static class ServeReport
{
    public static TextTable Table(IReadOnlyList<ServePoint> points)
    {
        var c = CultureInfo.InvariantCulture;
        var table = new TextTable("setup", "load", "done/sent", "mismatch", "req/s", "out tok/s", "goodput req/s", "TTFT p50/p90/p99 ms", "TPOT p50/p90/p99 ms", "ITL p50/p90/p99 ms", "KV xfer p50 ms", "TTFT parts p50 ms: reserve / prefill call (compute, exposed xfer) / decode 1st", "engine batch", "step ms", "engine busy");
        foreach (var p in points)
        {
            table.Add(p.Setup, p.Load, $"{p.Completed}/{p.Requests}", p.Mismatches.ToString(c), p.RequestThroughput.ToString("0.00", c), p.OutputTokensPerS.ToString("0", c),
                p.Goodput.ToString("0.00", c), string.Create(c, $"{p.TtftMsP50:0.0}/{p.TtftMsP90:0.0}/{p.TtftMsP99:0.0}"),
                string.Create(c, $"{p.TpotMsP50:0.00}/{p.TpotMsP90:0.00}/{p.TpotMsP99:0.00}"), string.Create(c, $"{p.ItlMsP50:0.00}/{p.ItlMsP90:0.00}/{p.ItlMsP99:0.00}"),
                p.KvTransferMsP50 > 0 ? p.KvTransferMsP50.ToString("0.00", c) : "-",
                p.KvTransferMsP50 > 0 ? string.Create(c, $"{p.ReserveMsP50:0.0} / {p.PrefillCallMsP50:0.0} ({p.PrefillComputeMsP50:0.0}, {p.ExposedTransferMsP50:0.0}) / {p.DecodeFirstTokenMsP50:0.0}") : "-",
                p.EngineMeanBatch.ToString("0.0", c), p.EngineStepMs.ToString("0.00", c),
                p.EngineBusyFraction.ToString("0%", c));
        }
        return table;
    }

    /// <summary>Output-token throughput, TTFT p50 and TPOT p50 against concurrency, one line per setup (closed-loop points).</summary>
    public static void Plot(IReadOnlyList<ServePoint> points, string path)
    {
        var closed = points.Where(p => p.Concurrency is not null).ToList();
        if (closed.Count == 0) return;
        var multi = new Multiplot();
        multi.AddPlots(3);
        multi.Layout = new ScottPlot.MultiplotLayouts.Columns();
        void Panel(int index, string title, string y, Func<ServePoint, double> value)
        {
            var plot = multi.GetPlot(index);
            plot.Title(title);
            plot.XLabel("concurrency (log2)");
            plot.YLabel(y);
            foreach (var group in closed.GroupBy(p => p.Setup))
            {
                var ordered = group.OrderBy(p => p.Concurrency).ToArray();
                var line = plot.Add.Scatter(ordered.Select(p => Math.Log2(p.Concurrency!.Value)).ToArray(), ordered.Select(value).ToArray());
                line.LegendText = group.Key;
            }
            var ticks = closed.Select(p => p.Concurrency!.Value).Distinct().OrderBy(v => v).ToArray();
            plot.Axes.Bottom.SetTicks(ticks.Select(t => Math.Log2(t)).ToArray(), ticks.Select(t => t.ToString(CultureInfo.InvariantCulture)).ToArray());
            plot.ShowLegend(Alignment.UpperLeft);
        }
        Panel(0, "Output tokens/s", "tokens/s", p => p.OutputTokensPerS);
        Panel(1, "TTFT p50", "ms", p => p.TtftMsP50);
        Panel(2, "TPOT p50", "ms", p => p.TpotMsP50);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        multi.SavePng(path, 1500, 480);
    }
}
