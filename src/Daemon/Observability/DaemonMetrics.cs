using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdRdma.Daemon.Observability;

/// <summary>The daemon's instruments (meter "PdRdma.Daemon"). Thread-safe.</summary>
public sealed class DaemonMetrics : IDisposable
{
    public const string MeterName = "PdRdma.Daemon";

    private readonly Meter _meter;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _bytesReceived;
    private readonly Histogram<double> _latency;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _leasesExpired;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _sessionsClosed;

    public DaemonMetrics(Func<int> activeLeases, Func<IEnumerable<(string Peer, string Backend)>> links, Func<DaemonLoad>? load = null)
    {
        load ??= () => default;
        _meter = new Meter(MeterName);
        _bytes = _meter.CreateCounter<long>("pdrdma.daemon.bytes.written", description: "KV bytes written to each peer");
        _batches = _meter.CreateCounter<long>("pdrdma.daemon.batches.written", description: "write batches completed per peer");
        _bytesReceived = _meter.CreateCounter<long>("pdrdma.daemon.bytes.received", description: "KV bytes peers placed in this node's pools");
        _latency = _meter.CreateHistogram<double>("pdrdma.daemon.transfer.latency.seconds", description: "time from a write request to its completion on the target");
        _errors = _meter.CreateCounter<long>("pdrdma.daemon.errors", description: "failed operations by error type");
        _leasesExpired = _meter.CreateCounter<long>("pdrdma.daemon.leases.expired", description: "leases that expired before their KV arrived");
        _meter.CreateObservableGauge("pdrdma.daemon.leases.active", activeLeases, description: "leases currently held");
        _meter.CreateObservableGauge("pdrdma.daemon.peer.link", () => links().Select(l =>
            new Measurement<int>(1, new("peer", l.Peer), new("backend", l.Backend))), description: "live peer links, labelled with the chosen backend");
        // Limits: each refusal is counted by the limit that caused it; what the limits bound is observed at scrape.
        _refused = _meter.CreateCounter<long>("pdrdma_daemon_refused_requests", description: "requests refused or sessions closed because a limit was reached, by limit");
        _sessionsClosed = _meter.CreateCounter<long>("pdrdma_daemon_engine_sessions_closed", description: "engine sessions the daemon closed, by reason (events_full, send_timeout)");
        _meter.CreateObservableGauge("pdrdma_daemon_engine_sessions", () => load().EngineSessions, description: "engine sessions open");
        _meter.CreateObservableGauge("pdrdma_daemon_engine_requests_in_work", () => load().RequestsInWork, description: "engine requests being worked on, all sessions");
        _meter.CreateObservableGauge("pdrdma_daemon_engine_events_queued", () => load().QueuedEvents, description: "Arrived/LeaseEnded events queued to engines and not yet sent, all sessions");
        _meter.CreateObservableGauge("pdrdma_daemon_writes_in_flight", () => load().WritesInFlight, description: "KV writes to peers in flight");
    }

    public void Written(string peer, string backend, long bytes, TimeSpan latency)
    {
        var tags = new TagList { { "peer", peer }, { "backend", backend } };
        _bytes.Add(bytes, tags);
        _batches.Add(1, tags);
        _latency.Record(latency.TotalSeconds, tags);
    }

    public void Received(string peer, long bytes) => _bytesReceived.Add(bytes, new KeyValuePair<string, object?>("peer", peer));

    public void Error(string type) => _errors.Add(1, new KeyValuePair<string, object?>("type", type));

    public void LeasesExpired(int count) => _leasesExpired.Add(count);

    /// <summary>One request refused (or session closed) because <paramref name="limit"/> was reached.</summary>
    public void Refused(string limit) => _refused.Add(1, new KeyValuePair<string, object?>("limit", limit));

    /// <summary>The daemon closed an engine session for <paramref name="reason"/>.</summary>
    public void SessionClosed(string reason) => _sessionsClosed.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
