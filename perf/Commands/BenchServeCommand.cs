using System.Globalization;
using System.Text.Json;
using PdRdma.Hosting.Clusters;
using PdRdma.Engines.Loading;
using PdRdma.Perf.Reporting;
using PdRdma.Perf.Serving;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench serve</c>: the serving benchmark users know from vLLM. Starts the two-node cluster of the demo
/// (daemons, prefill, decode, proxy, colocated), then measures the colocated server and the disaggregated path
/// through the proxy with the same requests: closed-loop concurrency sweeps and Poisson arrivals. Prints a table
/// (or one JSON object per setup and load point with --json), the targets of issue 12, and writes a PNG plot.
/// </summary>
public static class BenchServeCommand
{
    public const string Help = "bench serve [--concurrency 1,8,32] [--request-rate R[,R]] [--requests N] [--prompt-words MIN:MAX] [--output-tokens MIN:MAX] [--slo-ttft-ms MS] [--slo-tpot-ms MS] [--model M] [--backend tcp|shm|auto] [--loopback] [--plot PATH] [--json] [--seed S]";

    public static async Task<int> RunAsync(string[] args)
    {
        ServeBenchOptions options;
        string model, backend, plot;
        bool json, loopback;
        try
        {
            var cli = new BenchArgs(args, ["--prompt-words", "--output-tokens", "--concurrency", "--request-rate", "--requests", "--slo-ttft-ms", "--slo-tpot-ms", "--seed", "--model", "--backend", "--plot"], ["--json", "--loopback"]);
            var promptWords = Range(cli.String("--prompt-words", "8:64"), "--prompt-words");
            var outputTokens = Range(cli.String("--output-tokens", "64:192"), "--output-tokens");
            options = new ServeBenchOptions
            {
                Concurrency = List(cli.String("--concurrency", "1,8,32"), "--concurrency", int.Parse).Where(c => c > 0).ToList(),
                RequestRates = cli.String("--request-rate") is { } rates ? List(rates, "--request-rate", s => double.Parse(s, CultureInfo.InvariantCulture)) : [],
                Requests = checked((int)cli.Long("--requests", 96)),
                PromptWordsMin = promptWords.Min, PromptWordsMax = promptWords.Max,
                OutputTokensMin = outputTokens.Min, OutputTokensMax = outputTokens.Max,
                SloTtftMs = double.Parse(cli.String("--slo-ttft-ms", "250"), CultureInfo.InvariantCulture),
                SloTpotMs = double.Parse(cli.String("--slo-tpot-ms", "25"), CultureInfo.InvariantCulture),
                Seed = checked((int)cli.Long("--seed", 1)),
            };
            model = cli.String("--model", Engines.Serving.ModelCatalog.Default);
            backend = cli.String("--backend", "tcp");
            plot = cli.String("--plot", "bench-serve.png");
            json = cli.Has("--json");
            loopback = cli.Has("--loopback");
            if (options.Requests is < 1 or > 100_000) throw new ArgumentException("--requests must be in [1, 100000]");
            if (options.Concurrency.Any(c => c > 1024)) throw new ArgumentException("--concurrency values must be in [1, 1024]");
            if (options.RequestRates.Any(r => r <= 0 || double.IsInfinity(r))) throw new ArgumentException("--request-rate values must be positive");
            if (options.Concurrency.Count == 0 && options.RequestRates.Count == 0) throw new ArgumentException("nothing to measure: give --concurrency or --request-rate");
            if (backend is not ("auto" or "shm" or "tcp")) throw new ArgumentException($"--backend '{backend}': auto, shm or tcp");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            await Console.Error.WriteLineAsync($"pdrdma bench serve: {e.Message}\nusage: pdrdma {Help}");
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        var spec = new ClusterSpec { Model = model, Backend = backend, Namespaces = !loopback && LocalCluster.CanUseNamespaces, Prefix = "pbs" };
        await Console.Error.WriteLineAsync($"pdrdma bench serve: starting two nodes ({(spec.Namespaces ? "network namespaces" : "loopback")}), daemons, prefill, decode, proxy and a colocated server of {model}...");
        LocalCluster? cluster = null;
        try
        {
            cluster = await LocalCluster.StartAsync(spec, cancel.Token);
            await Console.Error.WriteLineAsync($"pdrdma bench serve: {cluster.Topology}");
            // The engine whose /metrics tells the decode side's own story: the colocated server, and the decode instance.
            var setups = new[] { ("colocated", cluster.ColocatedUrl, cluster.ColocatedUrl), ("disaggregated", cluster.ProxyUrl, cluster.DecodeUrl) };
            var corpus = await File.ReadAllTextAsync(Path.Combine(Path.GetDirectoryName(ShippedModels.Stories260KPath)!, "expected-greedy-200.txt"), cancel.Token);
            var progress = ProgressBar.ForStderr(ServeBenchmark.Weight(options, setups.Length));
            var points = await new ServeBenchmark(options, setups, corpus, progress).RunAsync(cancel.Token);
            if (json)
            {
                foreach (var p in points) Console.WriteLine(JsonSerializer.Serialize(p));
            }
            else
            {
                Console.WriteLine(ServeReport.Table(points).ToTerminal());
                foreach (var line in Targets(points)) Console.WriteLine(line);
            }
            ServeReport.Plot(points, plot);
            await Console.Error.WriteLineAsync($"pdrdma bench serve: plot written to {Path.GetFullPath(plot)}");
            if (json) foreach (var line in Targets(points)) await Console.Error.WriteLineAsync(line);
            return points.All(p => p.Failed == 0 && p.Mismatches == 0) ? 0 : 1;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("pdrdma bench serve: interrupted; stopping everything it started");
            return 130;
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TimeoutException or IOException)
        {
            await Console.Error.WriteLineAsync($"pdrdma bench serve failed: {e.Message}");
            if (cluster is not null) cluster.KeepLogs = true;
            if (cluster is not null) await Console.Error.WriteLineAsync($"logs: {cluster.WorkDirectory}");
            return 1;
        }
        finally
        {
            if (cluster is not null) await cluster.DisposeAsync();
        }
    }

    /// <summary>The targets of issue 12, each met or not, with the measured figures.</summary>
    public static IEnumerable<string> Targets(IReadOnlyList<ServePoint> points)
    {
        var c = CultureInfo.InvariantCulture;
        ServePoint? At(string setup, int concurrency) => points.FirstOrDefault(p => p.Setup == setup && p.Concurrency == concurrency);
        var maxC = points.Where(p => p.Concurrency is not null).Select(p => p.Concurrency!.Value).DefaultIfEmpty(0).Max();
        foreach (var setup in new[] { "colocated", "disaggregated" })
        {
            if (At(setup, 1) is { } one && maxC > 1 && At(setup, maxC) is { } top && one.OutputTokensPerS > 0)
            {
                var ratio = top.OutputTokensPerS / one.OutputTokensPerS;
                yield return string.Create(c, $"target: {setup} output tok/s at concurrency {maxC} = {ratio:0.00} x concurrency 1 (>= 6): {(ratio >= 6 ? "met" : "MISSED")}");
            }
        }
        if (At("colocated", 1) is { } col && At("disaggregated", 1) is { } dis)
        {
            var tpot = col.TpotMsP50 > 0 ? dis.TpotMsP50 / col.TpotMsP50 : 0;
            yield return string.Create(c, $"target: concurrency 1 TPOT p50 disaggregated/colocated = {tpot:0.000} (<= 1.05): {(tpot <= 1.05 ? "met" : "MISSED")}");
            var bound = col.TtftMsP50 + dis.KvTransferMsP50 + 2;
            yield return string.Create(c, $"target: concurrency 1 TTFT p50 disaggregated {dis.TtftMsP50:0.00} ms <= colocated {col.TtftMsP50:0.00} + KV transfer {dis.KvTransferMsP50:0.00} + 2 ms = {bound:0.00} ms: {(dis.TtftMsP50 <= bound ? "met" : "MISSED")}");
        }
        var mismatches = points.Sum(p => p.Mismatches);
        yield return $"target: outputs identical to colocated greedy generation under load: {(mismatches == 0 ? "met" : $"MISSED ({mismatches} differ)")}";
    }

    private static (int Min, int Max) Range(string text, string name)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var min) || !int.TryParse(parts[1], out var max) || min < 1 || max < min || max > 100_000)
            throw new ArgumentException($"{name} expects MIN:MAX with 1 <= MIN <= MAX, got '{text}'");
        return (min, max);
    }

    private static List<T> List<T>(string text, string name, Func<string, T> parse)
    {
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(parse).ToList();
        }
        catch (FormatException)
        {
            throw new ArgumentException($"{name} expects a comma-separated list of numbers, got '{text}'");
        }
    }
}
