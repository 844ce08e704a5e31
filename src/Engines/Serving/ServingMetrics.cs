using System.Diagnostics.Metrics;

namespace PdRdma.Engines.Serving;

/// <summary>Instruments of a serving instance or proxy (meter "PdRdma.Serving"), named <c>pdrdma_serving_&lt;what&gt;_&lt;unit&gt;</c>. Thread-safe.</summary>
public sealed class ServingMetrics : IDisposable
{
    private readonly Meter _meter = new("PdRdma.Serving");
    private readonly Counter<long> _requests;
    private readonly Counter<long> _tokens;
    private readonly Histogram<double> _ttft;
    private readonly Counter<long> _kvBytes;
    private int _inFlight;

    public ServingMetrics(string role)
    {
        Role = role;
        _requests = _meter.CreateCounter<long>("pdrdma_serving_requests", null, "requests by role and outcome");
        _tokens = _meter.CreateCounter<long>("pdrdma_serving_generated_tokens", null, "tokens generated");
        _ttft = _meter.CreateHistogram<double>("pdrdma_serving_ttft_seconds", "s", "time to first token");
        _kvBytes = _meter.CreateCounter<long>("pdrdma_serving_kv_pushed_bytes", "By", "KV bytes pushed to decode instances");
        _meter.CreateObservableGauge("pdrdma_serving_requests_in_flight", () => Volatile.Read(ref _inFlight), null, "requests in progress");
    }

    public string Role { get; }

    public int InFlight => Volatile.Read(ref _inFlight);

    public IDisposable Track()
    {
        Interlocked.Increment(ref _inFlight);
        return new Release(this);
    }

    public void Request(string outcome) => _requests.Add(1, new("role", Role), new("outcome", outcome));

    public void Tokens(int count) => _tokens.Add(count, new KeyValuePair<string, object?>("role", Role));

    public void FirstToken(TimeSpan ttft) => _ttft.Record(ttft.TotalSeconds, new KeyValuePair<string, object?>("role", Role));

    public void KvBytes(long bytes, string backend) => _kvBytes.Add(bytes, new KeyValuePair<string, object?>("backend", backend));

    public void Dispose() => _meter.Dispose();

    private sealed class Release(ServingMetrics metrics) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) Interlocked.Decrement(ref metrics._inFlight);
        }
    }
}
