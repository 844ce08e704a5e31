using PdRdma.Perf.Baselines;
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
            var baseline = run.LatencyBaselines.FirstOrDefault(b => b.Path == p.Path && b.Baseline == "qperf tcp_lat");
            double? RoundTrip(string name) => run.LatencyBaselines.FirstOrDefault(b => b.Path == p.Path && b.Baseline == name) is { } b ? Math.Round(b.LatencyUs, 2) : null;
            return BenchJson.Line(new
            {
                backend = p.Backend, path = p.Path, pattern, size_bytes = p.Bytes, p50_us = p.LatencyP50Us, p99_us = p.LatencyP99Us,
                baseline = baseline is null ? "none" : p.Backend == "shm" ? "qperf tcp_lat loopback" : baseline.Baseline,
                baseline_us = baseline is null ? double.NaN : Math.Round(baseline.LatencyUs, 2),
                ratio = baseline is null ? double.NaN : Math.Round(p.LatencyP50Us!.Value / baseline.LatencyUs, 3), data_mac = dataMac,
                // qperf's tcp_lat is half a round trip; a write acknowledged is a whole one. The bounds below are whole
                // round trips on the same path in the same run: qperf's doubled, and .NET's own sockets.
                qperf_round_trip_us = baseline is null ? double.NaN : Math.Round(2 * baseline.LatencyUs, 2),
                ratio_round_trip = baseline is null ? double.NaN : Math.Round(p.LatencyP50Us!.Value / (2 * baseline.LatencyUs), 3),
                dotnet_socket_pingpong_blocking_us = RoundTrip(DotnetPingPongBaseline.Name(SocketPingPong.Mode.Blocking)),
                dotnet_socket_pingpong_async_us = RoundTrip(DotnetPingPongBaseline.Name(SocketPingPong.Mode.Async)),
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
