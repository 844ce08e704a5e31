using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.CommandLine;
using PdRdma.Hosting.Clusters;
using PdRdma.Hosting.CommandLine;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench load</c>: the two-node cluster of the demo (two daemons, prefill and decode engines, proxy, a colocated
/// reference) under N requests at concurrency C through the proxy. Prints one JSON object: requests, completed, failed
/// (each a clean HTTP error), mismatches (a completed text that differs from colocated greedy generation),
/// bytes_outside_grants and the peak RSS of every process (VmHWM).
/// </summary>
public static class BenchLoadCommand
{
    private enum LoadBackend { Auto, Shm, Tcp }

    private static readonly Option<int> Requests = CliOptions.Int("--requests", "requests in all", 1000, 1, 1_000_000);
    private static readonly Option<int> Concurrency = CliOptions.Int("--concurrency", "requests in flight at once", 32, 1, 1024);
    private static readonly Option<int> MaxTokens = CliOptions.Int("--max-tokens", "tokens generated per request", 8, 1, 4096);
    private static readonly Option<string> Model = CliOptions.Text("--model", "the model the cluster serves", Engines.Serving.ModelCatalog.Default);
    private static readonly Option<LoadBackend> Backend = CliOptions.Choice("--backend", "transport between the daemons", LoadBackend.Tcp);
    private static readonly Option<bool> Loopback = CliOptions.Flag("--loopback", "loopback ports even when network namespaces are possible");
    private static readonly Option<bool> Json = CliOptions.Flag("--json", "one JSON object");

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("load", "N requests at concurrency C through the proxy of the two-node cluster: completed, failed, mismatches, bytes outside grants, peak RSS")
        {
            Requests, Concurrency, MaxTokens, Model, Backend, Loopback, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(Requests), parse.GetValue(Concurrency), parse.GetValue(MaxTokens), parse.GetValue(Model)!,
            CliOptions.Name(parse.GetValue(Backend)), parse.GetValue(Json), parse.GetValue(Loopback)));
        return command;
    }

    private static async Task<int> RunAsync(int requests, int concurrency, int maxTokens, string model, string backend, bool json, bool loopback)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        var spec = new ClusterSpec { Model = model, Backend = backend, Namespaces = !loopback && LocalCluster.CanUseNamespaces, Prefix = "pbl" };
        await Console.Error.WriteLineAsync($"pdrdma bench load: starting two nodes ({(spec.Namespaces ? "network namespaces" : "loopback")}) with {model}...");
        LocalCluster? cluster = null;
        try
        {
            cluster = await LocalCluster.StartAsync(spec, cancel.Token);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
            // Sixteen distinct prompts, each answered once by the colocated server: the reference for every request.
            var prompts = Enumerable.Range(0, 16).Select(i => $"Once upon a time there was a little dog number {i} who").ToArray();
            var reference = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var prompt in prompts)
                reference[prompt] = await CompleteAsync(http, cluster.ColocatedUrl, prompt, maxTokens, cancel.Token) ?? throw new InvalidOperationException($"the colocated server did not answer '{prompt}'");

            int completed = 0, failed = 0, mismatches = 0;
            var errors = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await Parallel.ForAsync(0, requests, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancel.Token }, async (i, ct) =>
            {
                var prompt = prompts[i % prompts.Length];
                string? text;
                try
                {
                    text = await CompleteAsync(http, cluster.ProxyUrl, prompt, maxTokens, ct);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException)
                {
                    errors.AddOrUpdate(e.GetType().Name, 1, (_, n) => n + 1);
                    text = null;
                }
                if (text is null) Interlocked.Increment(ref failed);
                else if (text != reference[prompt]) Interlocked.Increment(ref mismatches);
                else Interlocked.Increment(ref completed);
            });
            var elapsed = clock.Elapsed;

            // Every byte placed on the decode node must belong to a request announced under its lease.
            var placed = Sum(await http.GetStringAsync(Metrics(cluster.DaemonBHealth), cancel.Token), "pdrdma_transport_received_bytes");
            var announced = Sum(await http.GetStringAsync(Metrics(cluster.DaemonBHealth), cancel.Token), "pdrdma_daemon_received_bytes");
            var rss = cluster.Parts.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => PeakRssMb(p.Value.Id));
            var result = new Dictionary<string, object>
            {
                ["requests"] = requests, ["completed"] = completed, ["failed"] = failed, ["mismatches"] = mismatches,
                ["bytes_outside_grants"] = Math.Max(0, placed - announced), ["peak_rss_mb"] = rss,
                ["concurrency"] = concurrency, ["max_tokens"] = maxTokens, ["model"] = model, ["backend"] = backend,
                ["seconds"] = Math.Round(elapsed.TotalSeconds, 2), ["kv_bytes_placed"] = placed, ["errors"] = errors,
            };
            if (json) Console.WriteLine(JsonSerializer.Serialize(result));
            else foreach (var (key, value) in result) Console.WriteLine($"{key}: {(value is string or int or long or double ? value : JsonSerializer.Serialize(value))}");
            return completed + failed == requests && mismatches == 0 && placed <= announced ? 0 : 1;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("pdrdma bench load: interrupted; stopping everything it started");
            return 130;
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TimeoutException or IOException)
        {
            await Console.Error.WriteLineAsync($"pdrdma bench load failed: {e.Message}");
            if (cluster is not null) cluster.KeepLogs = true;
            if (cluster is not null) await Console.Error.WriteLineAsync($"logs: {cluster.WorkDirectory}");
            return 1;
        }
        finally
        {
            if (cluster is not null) await cluster.DisposeAsync();
        }
    }

    /// <summary>The completion's text, or null when the server refused or failed the request (a clean failure).</summary>
    private static async Task<string?> CompleteAsync(HttpClient http, string url, string prompt, int maxTokens, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(url + "/v1/completions", new { prompt, max_tokens = maxTokens, temperature = 0 }, ct);
        if (!response.IsSuccessStatusCode) return null;
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return body.RootElement.GetProperty("choices")[0].GetProperty("text").GetString();
    }

    private static string Metrics(string health) => health[..health.LastIndexOf('/')] + "/metrics";

    /// <summary>The sum of every series of a metric family in Prometheus text (counters with or without _total).</summary>
    private static long Sum(string text, string family) => (long)text.Split('\n')
        .Where(l => l.StartsWith(family, StringComparison.Ordinal) && (l.Length > family.Length && l[family.Length] is ' ' or '{' or '_'))
        .Where(l => !l.StartsWith(family + "_bucket", StringComparison.Ordinal))
        .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).Sum();

    private static double PeakRssMb(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? 0 : Math.Round(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0, 1);
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
