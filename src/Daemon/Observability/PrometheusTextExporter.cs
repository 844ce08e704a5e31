using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace PdRdma.Daemon.Observability;

/// <summary>
/// Collects System.Diagnostics.Metrics instruments of the meters whose names start with a prefix and renders
/// the Prometheus text exposition format (counters as _total, histograms with fixed buckets, gauges observed
/// at scrape). Thread-safe. Names: meter instrument "pdrdma.daemon.bytes" → "pdrdma_daemon_bytes".
/// </summary>
public sealed class PrometheusTextExporter : IDisposable
{
    private static readonly double[] Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Labels), Series> _series = new();
    private readonly ConcurrentDictionary<Instrument, byte> _observables = new();

    public PrometheusTextExporter(string meterPrefix)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!instrument.Meter.Name.StartsWith(meterPrefix, StringComparison.Ordinal)) return;
            if (instrument.GetType().Name.StartsWith("Observable", StringComparison.Ordinal)) _observables[instrument] = 0;
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = new StringBuilder();
        foreach (var tag in tags)
        {
            if (labels.Length > 0) labels.Append(',');
            labels.Append(Sanitize(tag.Key)).Append("=\"").Append(Escape(tag.Value?.ToString() ?? "")).Append('"');
        }
        var series = _series.GetOrAdd((instrument, labels.ToString()), _ => new Series());
        lock (series)
        {
            switch (instrument)
            {
                case Histogram<double> or Histogram<long>:
                    series.Count++;
                    series.Sum += value;
                    for (var b = 0; b < Buckets.Length; b++) if (value <= Buckets[b]) series.BucketCounts[b]++;
                    break;
                case Counter<long> or Counter<double> or UpDownCounter<long> or UpDownCounter<int>:
                    series.Value += value;
                    break;
                default: // observable gauges and counters report the current value
                    series.Value = value;
                    break;
            }
        }
    }

    /// <summary>Renders every series in the text exposition format (version 0.0.4).</summary>
    public string Render()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var group in _series.GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var name = Sanitize(instrument.Name);
            var isHistogram = instrument is Histogram<double> or Histogram<long>;
            var isCounter = instrument is Counter<long> or Counter<double> || instrument.GetType().Name.StartsWith("ObservableCounter", StringComparison.Ordinal);
            if (isCounter && !name.EndsWith("_total", StringComparison.Ordinal)) name += "_total";
            if (instrument.Description is { Length: > 0 } help) text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace('\n', ' ')).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(isHistogram ? "histogram" : isCounter ? "counter" : "gauge").Append('\n');
            foreach (var (key, series) in group.OrderBy(s => s.Key.Labels, StringComparer.Ordinal))
            {
                lock (series)
                {
                    if (!isHistogram)
                    {
                        text.Append(name).Append(Braces(key.Labels)).Append(' ').Append(Format(series.Value)).Append('\n');
                        continue;
                    }
                    long cumulative = 0;
                    for (var b = 0; b < Buckets.Length; b++)
                    {
                        cumulative = series.BucketCounts[b];
                        text.Append(name).Append("_bucket").Append(Braces(Join(key.Labels, $"le=\"{Format(Buckets[b])}\""))).Append(' ').Append(cumulative).Append('\n');
                    }
                    text.Append(name).Append("_bucket").Append(Braces(Join(key.Labels, "le=\"+Inf\""))).Append(' ').Append(series.Count).Append('\n');
                    text.Append(name).Append("_sum").Append(Braces(key.Labels)).Append(' ').Append(Format(series.Sum)).Append('\n');
                    text.Append(name).Append("_count").Append(Braces(key.Labels)).Append(' ').Append(series.Count).Append('\n');
                }
            }
        }
        return text.ToString();
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : a + "," + b;

    private static string Braces(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_'));

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    public void Dispose() => _listener.Dispose();

    private sealed class Series
    {
        public double Value;
        public double Sum;
        public long Count;
        public readonly long[] BucketCounts = new long[Buckets.Length];
    }
}
