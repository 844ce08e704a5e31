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

    public DaemonMetrics(Func<int> activeLeases, Func<IEnumerable<(string Peer, string Backend)>> links)
    {
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

    public void Dispose() => _meter.Dispose();
}
