using System.Text.Json;

namespace PdRdma.Perf.Baselines;

/// <summary>Reads the output of <c>iperf3 -c ... -J</c>. An iperf3 error object, or a document without totals, is a <see cref="FormatException"/>.</summary>
public static class Iperf3JsonParser
{
    public static Iperf3Result Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"iperf3 output is not JSON: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FormatException("iperf3 output is not a JSON object");
            if (root.TryGetProperty("error", out var error)) throw new FormatException($"iperf3 reported an error: {error.GetString()}");
            if (!root.TryGetProperty("end", out var end)
                || !end.TryGetProperty("sum_received", out var received)
                || !end.TryGetProperty("sum_sent", out var sent))
            {
                throw new FormatException("iperf3 output has no end.sum_received / end.sum_sent (is it a TCP client run with -J?)");
            }
            int? blockBytes = root.TryGetProperty("start", out var start) && start.TryGetProperty("test_start", out var testStart)
                && testStart.TryGetProperty("blksize", out var blk) && blk.TryGetInt32(out var b) ? b : null;
            return new Iperf3Result(
                Number(received, "bits_per_second"),
                Number(sent, "bits_per_second"),
                (long)Number(received, "bytes"),
                Number(received, "seconds"),
                sent.TryGetProperty("retransmits", out var r) && r.TryGetInt32(out var retransmits) ? retransmits : null,
                blockBytes);
        }
    }

    private static double Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetDouble(out var number)
            ? number
            : throw new FormatException($"iperf3 output lacks the number '{name}'");
}
