using System.Globalization;

namespace PdRdma.Perf.Serving;

/// <summary>
/// The decode engine's own account of a load point, scraped from its Prometheus /metrics before and after:
/// forward passes by batch size and the time they took. Shows whether the engine or the serving path around it
/// bounds throughput (busy fraction, mean batch, step time).
/// </summary>
public sealed record EngineCounters(double Steps, double Sequences, double Seconds)
{
    public static async Task<EngineCounters> ScrapeAsync(HttpClient http, string url, CancellationToken ct)
    {
        string text;
        try
        {
            text = await http.GetStringAsync(url.TrimEnd('/') + "/metrics", ct).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            return new EngineCounters(0, 0, 0);
        }
        double steps = 0, sequences = 0, seconds = 0;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("pdrdma_engine_forward_seconds_", StringComparison.Ordinal) || !line.Contains("phase=\"decode\"", StringComparison.Ordinal)) continue;
            var batchAt = line.IndexOf("batch=\"", StringComparison.Ordinal);
            if (batchAt < 0) continue;
            var batchEnd = line.IndexOf('"', batchAt + 7);
            if (!int.TryParse(line.AsSpan(batchAt + 7, batchEnd - batchAt - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var batch)) continue;
            if (!double.TryParse(line.AsSpan(line.LastIndexOf(' ') + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) continue;
            if (line.StartsWith("pdrdma_engine_forward_seconds_count", StringComparison.Ordinal))
            {
                steps += value;
                sequences += value * batch;
            }
            else if (line.StartsWith("pdrdma_engine_forward_seconds_sum", StringComparison.Ordinal))
            {
                seconds += value;
            }
        }
        return new EngineCounters(steps, sequences, seconds);
    }

    public EngineCounters Minus(EngineCounters before) => new(Steps - before.Steps, Sequences - before.Sequences, Seconds - before.Seconds);
}
