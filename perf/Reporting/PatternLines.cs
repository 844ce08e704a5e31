using PdRdma.Perf.Results;

namespace PdRdma.Perf.Reporting;

/// <summary>
/// The JSON lines of <c>pdrdma bench transfer --pattern kv|latency|rate --json</c>: one object per backend, path and
/// point, with the keys issue 10 names; each ratio is against a baseline measured in the same run.
/// </summary>
public static class PatternLines
{
    public static IEnumerable<string> Render(string pattern, BenchRun run, bool dataMac = true) => pattern switch
    {
        "kv" => run.KvShaped.Select(p => BenchJson.Line(new
        {
            backend = p.Backend, path = p.Path, pattern, block_bytes = p.BlockBytes, blocks = p.Blocks, gbps = p.BlocksGbps,
            baseline = "one-extent", baseline_gbps = p.ContiguousGbps, ratio = p.Ratio, data_mac = dataMac,
        })),
        "latency" => run.Transfer.Where(p => p.LatencyP50Us is not null).Select(p =>
        {
            var baseline = run.LatencyBaselines.FirstOrDefault(b => b.Path == p.Path);
            return BenchJson.Line(new
            {
                backend = p.Backend, path = p.Path, pattern, size_bytes = p.Bytes, p50_us = p.LatencyP50Us, p99_us = p.LatencyP99Us,
                baseline = baseline is null ? "none" : p.Backend == "shm" ? "qperf tcp_lat loopback" : baseline.Baseline,
                baseline_us = baseline is null ? double.NaN : Math.Round(baseline.LatencyUs, 2),
                ratio = baseline is null ? double.NaN : Math.Round(p.LatencyP50Us!.Value / baseline.LatencyUs, 3), data_mac = dataMac,
            });
        }),
        "rate" => run.Batches.Select(p => BenchJson.Line(new
        {
            backend = p.Backend, path = p.Path, pattern, size_bytes = p.Bytes, writes_per_batch = p.Ops,
            writes_per_s = Math.Round(p.Gbps * 1e9 / 8 / p.Bytes), gbps = p.Gbps, p50_us = p.LatencyP50Us, data_mac = dataMac,
        })),
        _ => throw new ArgumentException($"unknown pattern '{pattern}' (kv, latency, rate)"),
    };
}
