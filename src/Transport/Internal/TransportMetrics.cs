using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdRdma.Transport.Internal;

/// <summary>
/// Meter "PdRdma.Transport", instruments named <c>pdrdma_transport_&lt;what&gt;_&lt;unit&gt;</c>. Per-peer totals are
/// observed from live connections and sessions and forgotten when one ends (<see cref="Forget"/>), so a gone peer's
/// series leave the exposition; the duration histogram and error counter are labelled by backend/side and code only.
/// </summary>
internal static class TransportMetrics
{
    public static readonly Meter Meter = new("PdRdma.Transport");
    private static readonly ConcurrentDictionary<(string Peer, string Backend), Totals> Sent = new();
    private static readonly ConcurrentDictionary<(string Peer, string Backend), Totals> Placed = new();
    private static readonly Counter<long> Errors = Meter.CreateCounter<long>("pdrdma_transport_errors", null, "transfer errors by side and code");
    private static readonly Histogram<double> BatchSeconds = Meter.CreateHistogram<double>("pdrdma_transport_batch_duration_seconds", "s", "time from post to completion, by backend");

    private static readonly Counter<long> Limits = Meter.CreateCounter<long>("pdrdma_transport_limit_refusals", null, "requests refused by a target limit, by limit");
    private static readonly Counter<long> MacFailures = Meter.CreateCounter<long>("pdrdma_transport_mac_failures", null, "frames or payloads that failed authentication (session ended)");
    private static readonly UpDownCounter<long> BytesInFlight = Meter.CreateUpDownCounter<long>("pdrdma_transport_inflight_bytes", "By", "bytes of accepted, unfinished batches (target side)");
    private static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>("pdrdma_transport_connections", null, "connections a target holds");

    static TransportMetrics()
    {
        Meter.CreateObservableCounter("pdrdma_transport_written_bytes", () => Observe(Sent, t => t.Bytes), "By", "bytes written to each connected peer");
        Meter.CreateObservableCounter("pdrdma_transport_batches", () => Observe(Sent, t => t.Batches), null, "batches completed per connected peer (initiator side)");
        Meter.CreateObservableCounter("pdrdma_transport_received_bytes", () => Observe(Placed, t => t.Bytes), "By", "bytes each connected peer placed here");
    }

    public static void Written(string peer, string backend, long bytes, double seconds)
    {
        Sent.GetOrAdd((peer, backend), _ => new Totals()).Add(bytes);
        BatchSeconds.Record(seconds, new KeyValuePair<string, object?>("backend", backend));
    }

    public static void Received(string peer, string backend, long bytes) => Placed.GetOrAdd((peer, backend), _ => new Totals()).Add(bytes);

    public static void Limit(string limit) => Limits.Add(1, new TagList { { "limit", limit } });

    public static void MacFailure() => MacFailures.Add(1);

    public static void InFlight(long bytes) => BytesInFlight.Add(bytes);

    public static void Connection(int delta) => Connections.Add(delta);

    public static void Error(string side, TransferErrorCode code) =>
        Errors.Add(1, new TagList { { "side", side }, { "code", code.ToString() } });

    /// <summary>A connection (<paramref name="sent"/>) or session with <paramref name="peer"/> ended: its series end.</summary>
    public static void Forget(string peer, bool sent)
    {
        var totals = sent ? Sent : Placed;
        foreach (var key in totals.Keys.Where(k => k.Peer == peer)) totals.TryRemove(key, out _);
    }

    private static IEnumerable<Measurement<long>> Observe(ConcurrentDictionary<(string Peer, string Backend), Totals> totals, Func<Totals, long> value) =>
        totals.Select(e => new Measurement<long>(value(e.Value), new("peer", e.Key.Peer), new("backend", e.Key.Backend)));

    private sealed class Totals
    {
        private long _bytes;
        private long _batches;

        public long Bytes => Interlocked.Read(ref _bytes);

        public long Batches => Interlocked.Read(ref _batches);

        public void Add(long bytes)
        {
            Interlocked.Add(ref _bytes, bytes);
            Interlocked.Increment(ref _batches);
        }
    }
}
