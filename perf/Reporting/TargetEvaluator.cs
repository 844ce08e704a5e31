using PdRdma.Perf.Results;

namespace PdRdma.Perf.Reporting;

/// <summary>
/// Holds a run against the project's targets. Bandwidth targets are taken at the largest message size measured
/// (where a transport is bound by moving bytes, not by per-message overhead); end-to-end targets at the longest
/// prompt measured with overlap.
/// </summary>
public static class TargetEvaluator
{
    public static IReadOnlyList<TargetResult> Evaluate(BenchRun run)
    {
        return
        [
            Bandwidth(run, "shm", ["one-host"], "memcpy", 0.8, "shm ≥ 0.8 × memcpy"),
            Bandwidth(run, "tcp", ["two-hosts", "one-host"], "iperf3", 0.9, "tcp ≥ 0.9 × iperf3 (same path)"),
            Bandwidth(run, "verbs", ["two-vms", "one-host"], "ib_write_bw", 0.95, "verbs ≥ 0.95 × ib_write_bw (same devices)"),
            .. EndToEnd(run),
        ];
    }

    private static TargetResult Bandwidth(BenchRun run, string backend, string[] paths, string baseline, double threshold, string goal)
    {
        var name = $"{backend} bandwidth";
        foreach (var path in paths)
        {
            var points = run.Transfer.Where(p => p.Backend == backend && p.Path == path && p.BaselineGbps > 0 && double.IsFinite(p.BaselineGbps)).ToArray();
            if (points.Length == 0) continue;
            var largest = points.MaxBy(p => p.Bytes)!;
            var best = points.MaxBy(p => p.Ratio)!;
            var met = largest.Ratio >= threshold;
            var crossing = points.Where(p => p.Ratio >= threshold).OrderBy(p => p.Bytes).FirstOrDefault();
            var note = $"{Format.Sig(largest.Gbps)} vs {Format.Sig(largest.BaselineGbps)} Gbit/s; best ratio {best.Ratio:F3} at {Format.Bytes(best.Bytes)}";
            if (crossing is not null) note += $"; ≥ target from {Format.Bytes(crossing.Bytes)}";
            if (!met && largest.LatencyP50Us is null)
            {
                var small = points.Where(p => p.LatencyP50Us is not null).MinBy(p => p.Bytes);
                if (small is not null) note += $"; per-batch round trip {Format.Sig(small.LatencyP50Us)} µs at {Format.Bytes(small.Bytes)}";
            }
            return new TargetResult
            {
                Name = name, Goal = goal, HigherIsBetter = true, Threshold = threshold, Measured = largest.Ratio,
                At = $"{Format.Bytes(largest.Bytes)}, {path}", Note = note,
            };
        }
        var reason = run.Notes.FirstOrDefault(n => n.StartsWith(backend, StringComparison.Ordinal)) ?? $"no {backend} points with a {baseline} baseline in this run";
        if (reason.Length > 200) reason = reason[..200] + "… (see the notes)";
        return new TargetResult { Name = name, Goal = goal, HigherIsBetter = true, Threshold = threshold, Note = reason };
    }

    private static IEnumerable<TargetResult> EndToEnd(BenchRun run)
    {
        var withOverlap = run.E2e.Where(p => p.Overlap).ToArray();
        if (withOverlap.Length == 0)
        {
            var reason = run.Notes.FirstOrDefault(n => n.StartsWith("e2e", StringComparison.Ordinal)) ?? "no end-to-end points in this run";
            yield return new TargetResult { Name = "disaggregated TTFT", Goal = "TTFT ≤ 1.1 × colocated (4096-token prompt, overlap)", HigherIsBetter = false, Threshold = 1.1, Note = reason };
            yield return new TargetResult { Name = "disaggregated TPOT", Goal = "TPOT ≤ 1.02 × colocated", HigherIsBetter = false, Threshold = 1.02, Note = reason };
            yield break;
        }
        var longest = withOverlap.Max(p => p.PromptLen);
        foreach (var point in withOverlap.Where(p => p.PromptLen == longest).OrderBy(p => p.Model, StringComparer.Ordinal).ThenBy(p => p.Backend, StringComparer.Ordinal))
        {
            var at = $"{point.Model}, {point.Backend}, {point.PromptLen} tokens, KV {Format.Bytes(point.KvBytes)}";
            yield return new TargetResult
            {
                Name = $"TTFT {point.Backend}", Goal = "TTFT ≤ 1.1 × colocated (4096-token prompt, overlap)", HigherIsBetter = false, Threshold = 1.1,
                Measured = point.TtftRatio, At = at,
                Note = $"{Format.Sig(point.TtftMsDisagg)} vs {Format.Sig(point.TtftMsColocated)} ms; transfer not hidden: {point.TransferShare:P1} of TTFT" +
                       (longest < 4096 ? $"; longest prompt measured was {longest}" : ""),
            };
            yield return new TargetResult
            {
                Name = $"TPOT {point.Backend}", Goal = "TPOT ≤ 1.02 × colocated", HigherIsBetter = false, Threshold = 1.02,
                Measured = point.TpotRatio, At = at, Note = $"{Format.Sig(point.TpotMsDisagg)} vs {Format.Sig(point.TpotMsColocated)} ms per token",
            };
        }
    }
}
