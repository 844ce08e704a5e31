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

    public static void Error(string side, TransferErrorCode code) =>
        Errors.Add(1, new TagList { { "side", side }, { "code", code.ToString() } });
}
