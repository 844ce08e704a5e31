using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdRdma.Daemon.Observability;

/// <summary>
/// The daemon's instruments (meter "PdRdma.Daemon"), named <c>pdrdma_daemon_&lt;what&gt;_&lt;unit&gt;</c>. Per-peer
/// write totals are observed from the live links at each scrape: when a peer's link goes, its series go with it.
/// Thread-safe.
/// </summary>
public sealed class DaemonMetrics : IDisposable
{
    public const string MeterName = "PdRdma.Daemon";

    private readonly Meter _meter;
    private readonly Func<IEnumerable<(string Peer, string Backend)>> _links;
    private readonly ConcurrentDictionary<(string Peer, string Backend), PeerTotals> _written = new();
    private readonly ConcurrentDictionary<string, PeerTotals> _received = new(StringComparer.Ordinal);
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _leasesExpired;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _sessionsClosed;

    public DaemonMetrics(Func<int> activeLeases, Func<IEnumerable<(string Peer, string Backend)>> links, Func<DaemonLoad>? load = null)
    {
        load ??= () => default;
        _links = links;
        _meter = new Meter(MeterName);
        _meter.CreateObservableCounter("pdrdma_daemon_written_bytes", () => Live(_written, k => k.Peer).Select(e =>
            new Measurement<long>(e.Value.Bytes, new("peer", e.Key.Peer), new("backend", e.Key.Backend))), "By", "KV bytes written to each live peer");
        _meter.CreateObservableCounter("pdrdma_daemon_written_batches", () => Live(_written, k => k.Peer).Select(e =>
            new Measurement<long>(e.Value.Batches, new("peer", e.Key.Peer), new("backend", e.Key.Backend))), null, "write batches completed per live peer");
        // Inbound sessions are the transfer agent's, not links of this daemon: these totals stay for the process's life.
        _meter.CreateObservableCounter("pdrdma_daemon_received_bytes", () => _received.Select(e =>
            new Measurement<long>(e.Value.Bytes, new KeyValuePair<string, object?>("peer", e.Key))), "By", "KV bytes each peer placed in this node's pools");
        _latency = _meter.CreateHistogram<double>("pdrdma_daemon_transfer_latency_seconds", "s", "time from a write request to its completion on the target, by backend");
        _errors = _meter.CreateCounter<long>("pdrdma_daemon_errors", null, "failed operations by error type");
        _leasesExpired = _meter.CreateCounter<long>("pdrdma_daemon_leases_expired", null, "leases that expired before their KV arrived");
        _meter.CreateObservableGauge("pdrdma_daemon_leases_active", activeLeases, null, "leases currently held");
        _meter.CreateObservableGauge("pdrdma_daemon_peer_links", () => links().Select(l =>
            new Measurement<int>(1, new("peer", l.Peer), new("backend", l.Backend))), null, "live peer links, labelled with the chosen backend");
        // Limits: each refusal is counted by the limit that caused it; what the limits bound is observed at scrape.
        _refused = _meter.CreateCounter<long>("pdrdma_daemon_refused_requests", null, "requests refused or sessions closed because a limit was reached, by limit");
        _sessionsClosed = _meter.CreateCounter<long>("pdrdma_daemon_engine_sessions_closed", null, "engine sessions the daemon closed, by reason (events_full, send_timeout)");
        _meter.CreateObservableGauge("pdrdma_daemon_engine_sessions", () => load().EngineSessions, null, "engine sessions open");
        _meter.CreateObservableGauge("pdrdma_daemon_engine_requests_in_work", () => load().RequestsInWork, null, "engine requests being worked on, all sessions");
        _meter.CreateObservableGauge("pdrdma_daemon_engine_events_queued", () => load().QueuedEvents, null, "Arrived/LeaseEnded events queued to engines and not yet sent, all sessions");
        _meter.CreateObservableGauge("pdrdma_daemon_writes_in_flight", () => load().WritesInFlight, null, "KV writes to peers in flight");
    }

    public void Written(string peer, string backend, long bytes, TimeSpan latency)
    {
        _written.GetOrAdd((peer, backend), _ => new PeerTotals()).Add(bytes);
        _latency.Record(latency.TotalSeconds, new KeyValuePair<string, object?>("backend", backend));
    }

    public void Received(string peer, long bytes) => _received.GetOrAdd(peer, _ => new PeerTotals()).Add(bytes);

    public void Error(string type) => _errors.Add(1, new KeyValuePair<string, object?>("type", type));

    public void LeasesExpired(int count) => _leasesExpired.Add(count);

    /// <summary>One request refused (or session closed) because <paramref name="limit"/> was reached.</summary>
    public void Refused(string limit) => _refused.Add(1, new KeyValuePair<string, object?>("limit", limit));

    /// <summary>The daemon closed an engine session for <paramref name="reason"/>.</summary>
    public void SessionClosed(string reason) => _sessionsClosed.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();

    /// <summary>The totals of peers that still have a link; those of gone peers are forgotten (their series end).</summary>
    private List<KeyValuePair<TKey, PeerTotals>> Live<TKey>(ConcurrentDictionary<TKey, PeerTotals> totals, Func<TKey, string> peerOf) where TKey : notnull
    {
        var live = _links().Select(l => l.Peer).ToHashSet(StringComparer.Ordinal);
        var kept = new List<KeyValuePair<TKey, PeerTotals>>();
        foreach (var entry in totals)
        {
            if (live.Contains(peerOf(entry.Key))) kept.Add(entry);
            else totals.TryRemove(entry);
        }
        return kept;
    }

    /// <summary>Bytes and batches moved with one peer; updated with interlocked adds.</summary>
    private sealed class PeerTotals
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
