using PdRdma.Perf.Results;

namespace PdRdma.Perf.Reporting;

/// <summary>The tables of a run, shared by the terminal summary and docs/BENCHMARKS.md.</summary>
public static class ReportTables
{
    public static TextTable Targets(BenchRun run)
    {
        var table = new TextTable("target", "goal", "measured", "at", "result", "what bounds it");
        foreach (var t in run.Targets)
        {
            var verdict = t.Met switch { true => "met", false => "MISSED", null => "not measured" };
            table.Add(t.Name, t.Goal, Format.Num(t.Measured, 3), t.At ?? "-", verdict, t.Note ?? "");
        }
        return table;
    }

    public static TextTable Transfer(IEnumerable<TransferPoint> points)
    {
        var table = new TextTable("backend", "path", "size", "ops/batch", "Gbit/s", "baseline", "baseline Gbit/s", "ratio", "lat p50 µs", "lat p99 µs");
        foreach (var p in points)
        {
            table.Add(p.Backend, p.Path, Format.Bytes(p.Bytes), p.Ops.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Format.Sig(p.Gbps), p.Baseline, Format.Sig(p.BaselineGbps), Format.Num(p.Ratio, 3), Format.Sig(p.LatencyP50Us), Format.Sig(p.LatencyP99Us));
        }
        return table;
    }

    public static TextTable KvShaped(IEnumerable<KvShapedPoint> points)
    {
        var table = new TextTable("backend", "path", "block", "blocks", "total", "blocks Gbit/s", "one extent Gbit/s", "ratio");
        foreach (var p in points)
        {
            table.Add(p.Backend, p.Path, Format.Bytes(p.BlockBytes), p.Blocks.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Format.Bytes(p.TotalBytes), Format.Sig(p.BlocksGbps), Format.Sig(p.ContiguousGbps), Format.Num(p.Ratio, 3));
        }
        return table;
    }

    public static TextTable Registration(IEnumerable<RegistrationPoint> points)
    {
        var table = new TextTable("region", "create+map ms", "register ms", "first touch ms");
        foreach (var p in points) table.Add(Format.Bytes(p.Bytes), Format.Sig(p.CreateMs), Format.Sig(p.RegisterMs), Format.Sig(p.FirstTouchMs));
        return table;
    }

    public static TextTable E2e(IEnumerable<E2ePoint> points)
    {
        var table = new TextTable("model", "backend", "overlap", "prompt", "KV", "TTFT coloc ms", "TTFT disagg ms", "TTFT ratio",
            "TPOT coloc ms", "TPOT disagg ms", "TPOT ratio", "transfer share");
        foreach (var p in points)
        {
            table.Add(p.Model, p.Backend, p.Overlap ? "yes" : "no", p.PromptLen.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Format.Bytes(p.KvBytes), Format.Sig(p.TtftMsColocated), Format.Sig(p.TtftMsDisagg), Format.Num(p.TtftRatio, 3),
                Format.Sig(p.TpotMsColocated), Format.Sig(p.TpotMsDisagg), Format.Num(p.TpotRatio, 3), Format.Num(p.TransferShare, 3));
        }
        return table;
    }

    public static TextTable Throughput(IEnumerable<ThroughputPoint> points)
    {
        var table = new TextTable("model", "backend", "prompt", "max tokens", "requests", "colocated req/s", "disaggregated req/s");
        foreach (var p in points)
        {
            table.Add(p.Model, p.Backend, p.PromptLen.ToString(System.Globalization.CultureInfo.InvariantCulture),
                p.MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Requests.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Format.Sig(p.ColocatedRps), Format.Sig(p.DisaggRps));
        }
        return table;
    }
}
