using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PdRdma.Transport.Internal;

/// <summary>Meter "PdRdma.Transport"; tags: peer, backend, code.</summary>
internal static class TransportMetrics
{
    public static readonly Meter Meter = new("PdRdma.Transport");
    private static readonly Counter<long> BytesWritten = Meter.CreateCounter<long>("pdrdma.transport.bytes_written", "By", "bytes written to peers");
    private static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>("pdrdma.transport.bytes_received", "By", "bytes placed by peers");
    private static readonly Counter<long> Batches = Meter.CreateCounter<long>("pdrdma.transport.batches", "{batch}", "batches completed (initiator side)");
    private static readonly Counter<long> Errors = Meter.CreateCounter<long>("pdrdma.transport.errors", "{error}", "transfer errors by code");
    private static readonly Counter<long> Limits = Meter.CreateCounter<long>("pdrdma_transport_limit_refusals_total", "{refusal}", "requests refused by a target limit, by limit");
    private static readonly Counter<long> MacFailures = Meter.CreateCounter<long>("pdrdma_transport_mac_failures_total", "{frame}", "frames or payloads that failed authentication (session ended)");
    private static readonly UpDownCounter<long> BytesInFlight = Meter.CreateUpDownCounter<long>("pdrdma_transport_inflight_bytes", "By", "bytes of accepted, unfinished batches (target side)");
    private static readonly UpDownCounter<long> Connections = Meter.CreateUpDownCounter<long>("pdrdma_transport_connections", "{connection}", "connections a target holds");
    private static readonly Histogram<double> BatchSeconds = Meter.CreateHistogram<double>("pdrdma.transport.batch_duration", "s", "time from post to completion");

    public static void Written(string peer, string backend, long bytes, double seconds)
    {
        var tags = new TagList { { "peer", peer }, { "backend", backend } };
        BytesWritten.Add(bytes, tags);
        Batches.Add(1, tags);
        BatchSeconds.Record(seconds, tags);
    }

    public static void Received(string peer, string backend, long bytes) =>
        BytesReceived.Add(bytes, new TagList { { "peer", peer }, { "backend", backend } });

    public static void Limit(string limit) => Limits.Add(1, new TagList { { "limit", limit } });

    public static void MacFailure() => MacFailures.Add(1);

    public static void InFlight(long bytes) => BytesInFlight.Add(bytes);

    public static void Connection(int delta) => Connections.Add(delta);

    public static void Error(string side, TransferErrorCode code) =>
        Errors.Add(1, new TagList { { "side", side }, { "code", code.ToString() } });
}
