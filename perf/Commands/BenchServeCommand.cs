using System.CommandLine;
using PdRdma.Hosting.CommandLine;
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
    private static readonly Option<int[]> Concurrency = CliOptions.IntList("--concurrency", "closed-loop concurrency levels", [1, 8, 32], 1, 1024);
    private static readonly Option<string> RequestRate = CliOptions.Text("--request-rate", "Poisson arrival rates in requests/s", helpName: "R[,R]");
    private static readonly Option<int> Requests = CliOptions.Int("--requests", "requests per load point", 96, 1, 100_000);
    private static readonly Option<string> PromptWords = CliOptions.Text("--prompt-words", "prompt length range in words", "8:64", "MIN:MAX");
    private static readonly Option<string> OutputTokens = CliOptions.Text("--output-tokens", "output length range in tokens", "64:192", "MIN:MAX");
    private static readonly Option<double> SloTtftMs = CliOptions.Double("--slo-ttft-ms", "goodput SLO on time to first token", 250, 0, 1e7);
    private static readonly Option<double> SloTpotMs = CliOptions.Double("--slo-tpot-ms", "goodput SLO on time per output token", 25, 0, 1e7);
    private static readonly Option<int> Seed = CliOptions.Int("--seed", "workload seed", 1);
    private static readonly Option<string> Model = CliOptions.Text("--model", "the model the cluster serves", Engines.Serving.ModelCatalog.Default);
    private static readonly Option<ServeBackend> Backend = CliOptions.Choice("--backend", "transport between the daemons", ServeBackend.Tcp);
    private static readonly Option<bool> Loopback = CliOptions.Flag("--loopback", "loopback ports even when network namespaces are possible");
    private static readonly Option<string> Plot = CliOptions.Text("--plot", "where the PNG plot goes", "bench-serve.png", "PATH");
    private static readonly Option<bool> Json = CliOptions.Flag("--json", "one JSON object per setup and load point");

    /// <summary>The backends a serving cluster's daemons take.</summary>
    private enum ServeBackend { Auto, Shm, Tcp }

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("serve", "the serving benchmark (like vLLM's benchmark_serving): colocated vs disaggregated, TTFT/TPOT/ITL, throughput, goodput")
        {
            Concurrency, RequestRate, Requests, PromptWords, OutputTokens, SloTtftMs, SloTpotMs, Seed, Model, Backend, Loopback, Plot, Json,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        ServeBenchOptions options;
        try
        {
            var promptWords = Range(parse.GetValue(PromptWords)!, "--prompt-words");
            var outputTokens = Range(parse.GetValue(OutputTokens)!, "--output-tokens");
            options = new ServeBenchOptions
            {
                Concurrency = [.. parse.GetValue(Concurrency)!],
                RequestRates = parse.GetValue(RequestRate) is { } rates ? List(rates, "--request-rate", s => double.Parse(s, CultureInfo.InvariantCulture)) : [],
                Requests = parse.GetValue(Requests),
                PromptWordsMin = promptWords.Min, PromptWordsMax = promptWords.Max,
                OutputTokensMin = outputTokens.Min, OutputTokensMax = outputTokens.Max,
                SloTtftMs = parse.GetValue(SloTtftMs),
                SloTpotMs = parse.GetValue(SloTpotMs),
                Seed = parse.GetValue(Seed),
            };
            if (options.RequestRates.Any(r => r <= 0 || double.IsInfinity(r))) throw new UsageException("--request-rate values must be positive");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            throw new UsageException(e.Message);
        }
        var model = parse.GetValue(Model)!;
        var backend = CliOptions.Name(parse.GetValue(Backend));
        var plot = parse.GetValue(Plot)!;
        var json = parse.GetValue(Json);
        var loopback = parse.GetValue(Loopback);

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
