using PdRdma.Perf.Results;
using ScottPlot;

namespace PdRdma.Perf.Reporting;

/// <summary>PNG plots of a run (ScottPlot). Sizes go on a log2 axis labelled in bytes.</summary>
public static class PlotWriter
{
    private const int Width = 900;
    private const int Height = 520;

    /// <summary>Writes every plot the run has data for into <paramref name="directory"/>; returns the file names written.</summary>
    public static IReadOnlyList<string> WriteAll(BenchRun run, string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        void Save(Plot? plot, string name)
        {
            if (plot is null) return;
            plot.SavePng(Path.Combine(directory, name), Width, Height);
            written.Add(name);
        }
        Save(Bandwidth(run.Transfer), "transfer-bandwidth.png");
        Save(Latency(run.Transfer), "transfer-latency.png");
        Save(Batches(run.Batches), "transfer-batch.png");
        Save(KvShaped(run.KvShaped), "kv-shaped.png");
        Save(Registration(run.Registration), "registration.png");
        Save(E2e(run.E2e, p => p.TtftMsColocated, p => p.TtftMsDisagg, "TTFT (ms)", "Time to first token"), "e2e-ttft.png");
        Save(E2e(run.E2e, p => p.TpotMsColocated, p => p.TpotMsDisagg, "TPOT (ms)", "Time per output token"), "e2e-tpot.png");
        return written;
    }

    private static Plot? Bandwidth(IReadOnlyList<TransferPoint> points)
    {
        if (points.Count == 0) return null;
        var plot = NewPlot("One-sided write bandwidth vs message size", "message size", "Gbit/s");
        foreach (var group in points.GroupBy(p => (p.Backend, p.Path)))
        {
            var ordered = group.OrderBy(p => p.Bytes).ToArray();
            var xs = ordered.Select(p => Math.Log2(p.Bytes)).ToArray();
            var ours = plot.Add.Scatter(xs, ordered.Select(p => p.Gbps).ToArray());
            ours.LegendText = $"{group.Key.Backend} ({group.Key.Path})";
            var baseline = plot.Add.Scatter(xs, ordered.Select(p => p.BaselineGbps).ToArray());
            baseline.LegendText = $"{ordered[0].Baseline} ({group.Key.Path})";
            baseline.LinePattern = LinePattern.Dashed;
            baseline.Color = ours.Color;
        }
        SizeTicks(plot, points.Select(p => p.Bytes));
        return plot;
    }

    private static Plot? Latency(IReadOnlyList<TransferPoint> points)
    {
        var measured = points.Where(p => p.LatencyP50Us is not null).ToArray();
        if (measured.Length == 0) return null;
        var plot = NewPlot("Write completion latency (queue depth 1), median", "message size", "log10 latency (µs)");
        foreach (var group in measured.GroupBy(p => (p.Backend, p.Path)))
        {
            var ordered = group.OrderBy(p => p.Bytes).ToArray();
            var line = plot.Add.Scatter(ordered.Select(p => Math.Log2(p.Bytes)).ToArray(), ordered.Select(p => Math.Log10(Math.Max(p.LatencyP50Us!.Value, 0.01))).ToArray());
            line.LegendText = $"{group.Key.Backend} ({group.Key.Path})";
        }
        SizeTicks(plot, measured.Select(p => p.Bytes));
        return plot;
    }

    private static Plot? Batches(IReadOnlyList<TransferPoint> points)
    {
        if (points.Count == 0) return null;
        var plot = NewPlot("Bandwidth vs writes per batch", "log2 writes per batch", "Gbit/s");
        foreach (var group in points.GroupBy(p => (p.Backend, p.Path, p.Bytes)))
        {
            var ordered = group.OrderBy(p => p.Ops).ToArray();
            var line = plot.Add.Scatter(ordered.Select(p => Math.Log2(p.Ops)).ToArray(), ordered.Select(p => p.Gbps).ToArray());
            line.LegendText = $"{group.Key.Backend} ({group.Key.Path}), {Format.Bytes(group.Key.Bytes)} writes";
        }
        return plot;
    }

    private static Plot? KvShaped(IReadOnlyList<KvShapedPoint> points)
    {
        if (points.Count == 0) return null;
        var plot = NewPlot("KV-shaped: non-contiguous blocks vs one extent (same bytes)", "block size", "Gbit/s");
        foreach (var group in points.GroupBy(p => (p.Backend, p.Path)))
        {
            var ordered = group.OrderBy(p => p.BlockBytes).ToArray();
            var xs = ordered.Select(p => Math.Log2(p.BlockBytes)).ToArray();
            var blocks = plot.Add.Scatter(xs, ordered.Select(p => p.BlocksGbps).ToArray());
            blocks.LegendText = $"{group.Key.Backend} ({group.Key.Path}) blocks";
            var extent = plot.Add.Scatter(xs, ordered.Select(p => p.ContiguousGbps).ToArray());
            extent.LegendText = $"{group.Key.Backend} ({group.Key.Path}) one extent";
            extent.LinePattern = LinePattern.Dashed;
            extent.Color = blocks.Color;
        }
        SizeTicks(plot, points.Select(p => p.BlockBytes));
        return plot;
    }

    private static Plot? Registration(IReadOnlyList<RegistrationPoint> points)
    {
        if (points.Count == 0) return null;
        var plot = NewPlot("Region setup time vs region size", "region size", "ms");
        var ordered = points.OrderBy(p => p.Bytes).ToArray();
        var xs = ordered.Select(p => Math.Log2(p.Bytes)).ToArray();
        plot.Add.Scatter(xs, ordered.Select(p => p.CreateMs).ToArray()).LegendText = "create + map";
        plot.Add.Scatter(xs, ordered.Select(p => p.RegisterMs).ToArray()).LegendText = "register with agent";
        plot.Add.Scatter(xs, ordered.Select(p => p.FirstTouchMs).ToArray()).LegendText = "first touch of every page";
        SizeTicks(plot, ordered.Select(p => p.Bytes));
        return plot;
    }

    private static Plot? E2e(IReadOnlyList<E2ePoint> points, Func<E2ePoint, double> colocated, Func<E2ePoint, double> disagg, string yLabel, string title)
    {
        if (points.Count == 0) return null;
        var plot = NewPlot($"{title}: colocated vs disaggregated", "log2 prompt length (tokens)", yLabel);
        foreach (var model in points.GroupBy(p => p.Model))
        {
            var coloc = model.GroupBy(p => p.PromptLen).Select(g => g.First()).OrderBy(p => p.PromptLen).ToArray();
            plot.Add.Scatter(coloc.Select(p => Math.Log2(p.PromptLen)).ToArray(), coloc.Select(colocated).ToArray()).LegendText = $"{model.Key} colocated";
            foreach (var variant in model.GroupBy(p => (p.Backend, p.Overlap)))
            {
                var ordered = variant.OrderBy(p => p.PromptLen).ToArray();
                var line = plot.Add.Scatter(ordered.Select(p => Math.Log2(p.PromptLen)).ToArray(), ordered.Select(disagg).ToArray());
                line.LegendText = $"{model.Key} disagg {variant.Key.Backend}{(variant.Key.Overlap ? " overlap" : " no overlap")}";
                if (!variant.Key.Overlap) line.LinePattern = LinePattern.Dashed;
            }
        }
        return plot;
    }

    private static Plot NewPlot(string title, string x, string y)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    private static void SizeTicks(Plot plot, IEnumerable<long> sizes)
    {
        var distinct = sizes.Distinct().OrderBy(s => s).ToArray();
        plot.Axes.Bottom.SetTicks(distinct.Select(s => Math.Log2(s)).ToArray(), distinct.Select(Format.Bytes).ToArray());
    }
}
