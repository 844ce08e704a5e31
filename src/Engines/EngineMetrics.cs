using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using PdRdma.Engines.Kv;

namespace PdRdma.Engines;

/// <summary>
/// The engines' instruments on the "PdRdma.Engines" meter (export with any System.Diagnostics.Metrics listener,
/// OpenTelemetry's Prometheus exporter at /metrics), named <c>pdrdma_engine_&lt;what&gt;_&lt;unit&gt;</c>: tokens, forward-pass durations, KV blocks free per pool, leases expired.
/// </summary>
public static class EngineMetrics
{
    public const string MeterName = "PdRdma.Engines";

    private static readonly Meter Meter = new(MeterName);
    private static readonly ConcurrentDictionary<KvPool, byte> Pools = new();
    private static readonly Counter<long> PrefillTokens = Meter.CreateCounter<long>("pdrdma_engine_prefill_tokens", null, "Prompt tokens prefilled");
    private static readonly Counter<long> GeneratedTokens = Meter.CreateCounter<long>("pdrdma_engine_generated_tokens", null, "Tokens sampled and emitted");
    private static readonly Histogram<double> ForwardSeconds = Meter.CreateHistogram<double>("pdrdma_engine_forward_seconds", "s", "Duration of one forward pass");
    private static readonly Counter<long> LeasesExpired = Meter.CreateCounter<long>("pdrdma_engine_leases_expired", null, "KV leases reclaimed after expiry");

    static EngineMetrics()
    {
        Meter.CreateObservableGauge("pdrdma_engine_kv_free_blocks", () =>
            Pools.Keys.Select(p => new Measurement<int>(p.Allocator.FreeCount, new KeyValuePair<string, object?>("pool", p.Name))), null, "Free blocks per KV pool");
        Meter.CreateObservableGauge("pdrdma_engine_kv_capacity_blocks", () =>
            Pools.Keys.Select(p => new Measurement<int>(p.Allocator.Capacity, new KeyValuePair<string, object?>("pool", p.Name))), null, "Blocks per KV pool");
    }

    internal static void Track(KvPool pool) => Pools.TryAdd(pool, 0);

    internal static void Untrack(KvPool pool) => Pools.TryRemove(pool, out _);

    internal static void Prefilled(int tokens, double seconds)
    {
        PrefillTokens.Add(tokens);
        ForwardSeconds.Record(seconds, new KeyValuePair<string, object?>("phase", "prefill"));
    }

    internal static void Decoded(int batch, double seconds) =>
        ForwardSeconds.Record(seconds, new KeyValuePair<string, object?>("phase", "decode"), new KeyValuePair<string, object?>("batch", batch));

    internal static void Generated() => GeneratedTokens.Add(1);

    internal static void Expired(int leases)
    {
        if (leases > 0) LeasesExpired.Add(leases);
    }
}
