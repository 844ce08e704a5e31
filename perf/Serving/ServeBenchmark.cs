using System.Diagnostics;
using PdRdma.Perf.Reporting;

namespace PdRdma.Perf.Serving;

/// <summary>
/// Drives serving endpoints like vLLM's benchmark_serving: first the reference (every prompt once, colocated, one at a
/// time: greedy outputs that later runs must reproduce, and the warm-up of both setups), then for each setup every
/// closed-loop concurrency (N clients, each sending its next request when the last finished) and every Poisson
/// request rate (exponential gaps between sends). Setups are measured one after the other, never overlapping.
/// </summary>
public sealed class ServeBenchmark(ServeBenchOptions options, IReadOnlyList<(string Name, string Url, string EngineUrl)> setups, string corpus, ProgressBar progress)
{
    public async Task<IReadOnlyList<ServePoint>> RunAsync(CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            Timeout = TimeSpan.FromMinutes(5),
        };
        var count = Math.Max(options.Requests, 2 * (options.Concurrency.Count == 0 ? 1 : options.Concurrency.Max()));
        var workload = ServeWorkload.Create(options, corpus, count);
        var colocated = setups[0].Url;

        progress.Begin($"reference: {count} requests colocated, one at a time");
        var reference = new string[count];
        for (int i = 0; i < count; i++)
        {
            var (prompt, maxTokens) = workload.Requests[i];
            var r = await ServeLoadClient.RunAsync(http, colocated, i, prompt, maxTokens, ct).ConfigureAwait(false);
            if (!r.Ok) throw new InvalidOperationException($"reference request {i} failed: {r.Error}");
            reference[i] = r.Text;
            progress.Advance(1, $"reference {i + 1}/{count}");
        }
        // Warm every other setup on a few requests (JIT, connections, peer authentication) before timing.
        foreach (var (name, url, _) in setups.Skip(1))
        {
            for (int i = 0; i < Math.Min(8, count); i++)
                await ServeLoadClient.RunAsync(http, url, i, workload.Requests[i].Prompt, workload.Requests[i].MaxTokens, ct).ConfigureAwait(false);
        }

        var points = new List<ServePoint>();
        foreach (var concurrency in options.Concurrency)
        {
            foreach (var (name, url, engine) in setups)
            {
                progress.Begin($"{name} concurrency {concurrency}");
                var before = await EngineCounters.ScrapeAsync(http, engine, ct).ConfigureAwait(false);
                var (results, seconds) = await ClosedLoopAsync(http, url, workload, concurrency, ct).ConfigureAwait(false);
                var after = await EngineCounters.ScrapeAsync(http, engine, ct).ConfigureAwait(false);
                points.Add(ServePoint.From(name, concurrency, null, results, reference, seconds, options, after.Minus(before)));
            }
        }
        foreach (var rate in options.RequestRates)
        {
            foreach (var (name, url, engine) in setups)
            {
                progress.Begin($"{name} {rate:0.##} requests/s (Poisson)");
                var before = await EngineCounters.ScrapeAsync(http, engine, ct).ConfigureAwait(false);
                var (results, seconds) = await PoissonAsync(http, url, workload, rate, ct).ConfigureAwait(false);
                var after = await EngineCounters.ScrapeAsync(http, engine, ct).ConfigureAwait(false);
                points.Add(ServePoint.From(name, null, rate, results, reference, seconds, options, after.Minus(before)));
            }
        }
        progress.Finish($"{points.Count} load points measured");
        return points;
    }

    private async Task<(IReadOnlyList<ServeRequestResult>, double)> ClosedLoopAsync(HttpClient http, string url, ServeWorkload workload, int concurrency, CancellationToken ct)
    {
        var results = new ServeRequestResult[workload.Requests.Count];
        int next = -1;
        var clock = Stopwatch.StartNew();
        async Task ClientAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < workload.Requests.Count)
            {
                var (prompt, maxTokens) = workload.Requests[i];
                results[i] = await ServeLoadClient.RunAsync(http, url, i, prompt, maxTokens, ct).ConfigureAwait(false);
                progress.Advance(1);
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(ClientAsync, ct))).ConfigureAwait(false);
        return (results, clock.Elapsed.TotalSeconds);
    }

    private async Task<(IReadOnlyList<ServeRequestResult>, double)> PoissonAsync(HttpClient http, string url, ServeWorkload workload, double rate, CancellationToken ct)
    {
        var random = new Random(options.Seed + 7);
        var clock = Stopwatch.StartNew();
        var sends = new List<Task<ServeRequestResult>>();
        double at = 0;
        for (int i = 0; i < workload.Requests.Count; i++)
        {
            var wait = TimeSpan.FromSeconds(at) - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
            var (prompt, maxTokens) = workload.Requests[i];
            int index = i;
            sends.Add(Task.Run(async () =>
            {
                var r = await ServeLoadClient.RunAsync(http, url, index, prompt, maxTokens, ct).ConfigureAwait(false);
                progress.Advance(1);
                return r;
            }, ct));
            at += -Math.Log(1 - random.NextDouble()) / rate;
        }
        var results = await Task.WhenAll(sends).ConfigureAwait(false);
        return (results, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Progress weight of a whole run (one unit per request).</summary>
    public static double Weight(ServeBenchOptions options, int setups)
    {
        var count = Math.Max(options.Requests, 2 * (options.Concurrency.Count == 0 ? 1 : options.Concurrency.Max()));
        return count * (1 + setups * (options.Concurrency.Count + options.RequestRates.Count));
    }
}
