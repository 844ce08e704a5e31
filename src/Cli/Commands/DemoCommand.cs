using System.Globalization;
using System.Text.Json;
using PdRdma.Cli.Demo;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma demo</c> — the main job: two nodes (daemon + engine each), the proxy, one prompt through the
/// disaggregated path and the same prompt colocated; prints the text, TTFT, TPOT, KV bytes, bandwidth, backend
/// and whether both outputs are identical. Stops everything it started, also on Ctrl-C.
/// </summary>
public static class DemoCommand
{
    public const string Help = "the main job: two nodes, daemons, prefill + decode engines, proxy, one prompt (--json, --model, --prompt, --max-tokens, --backend, --prompt-len N, --loopback)";

    public static async Task<int> RunAsync(string[] args)
    {
        string model, prompt, backend;
        int maxTokens;
        bool json, loopback;
        try
        {
            var cli = new CliArgs(args, "--json", "--loopback");
            model = cli.Get("--model", Engines.Serving.ModelCatalog.Default);
            var promptLength = cli.GetInt("--prompt-len", 0);
            prompt = cli.Get("--prompt") ?? (promptLength > 0 ? SyntheticPrompt(promptLength) : "Once upon a time, a little robot");
            maxTokens = cli.GetInt("--max-tokens", 32);
            backend = cli.Get("--backend", "tcp");
            json = cli.Has("--json");
            loopback = cli.Has("--loopback");
            cli.EnsureAllUsed();
            if (backend is not ("auto" or "shm" or "tcp" or "verbs")) throw new ArgumentException($"--backend '{backend}' is unknown: auto, shm, tcp or verbs");
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"pdrdma demo: {e.Message}\nusage: pdrdma demo {Help}");
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        LocalCluster? cluster = null;
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        EventHandler onExit = (_, _) => cluster?.KillNow();
        Console.CancelKeyPress += onCancel;
        AppDomain.CurrentDomain.ProcessExit += onExit;
        var say = json ? TextWriter.Null : Console.Error;
        try
        {
            var spec = new ClusterSpec { Model = model, Backend = backend, Namespaces = !loopback && LocalCluster.CanUseNamespaces, Prefix = "pdm" };
            await say.WriteLineAsync($"pdrdma demo: starting two nodes ({(spec.Namespaces ? "network namespaces" : "loopback")}), daemons, engines and the proxy...");
            cluster = await LocalCluster.StartAsync(spec, cancel.Token);
            await say.WriteLineAsync($"pdrdma demo: {cluster.Topology}; logs in {cluster.WorkDirectory} (kept only if it fails)");
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
            // One short request per path first: JIT, connection setup and peer authentication are not part of TTFT.
            await CompletionClient.StreamAsync(http, cluster.ColocatedUrl, "warm up", 2, cancel.Token);
            await CompletionClient.StreamAsync(http, cluster.ProxyUrl, "warm up", 2, cancel.Token);
            var colocated = await CompletionClient.StreamAsync(http, cluster.ColocatedUrl, prompt, maxTokens, cancel.Token);
            var split = await CompletionClient.StreamAsync(http, cluster.ProxyUrl, prompt, maxTokens, cancel.Token);
            var stats = split.Stats;
            var kvBytes = stats?.GetProperty("kv_bytes").GetInt64() ?? 0;
            var transferMs = stats?.GetProperty("transfer_ms").GetDouble() ?? 0;
            var used = stats?.GetProperty("backend").GetString() ?? "?";
            var gbps = transferMs > 0 ? kvBytes * 8 / (transferMs / 1000) / 1e9 : 0;
            var identical = split.Text == colocated.Text;
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["text"] = split.Text,
                    ["tokens"] = split.Tokens,
                    ["identical_to_colocated"] = identical,
                    ["ttft_ms"] = Math.Round(split.TtftMs, 3),
                    ["tpot_ms"] = Math.Round(split.TpotMs, 3),
                    ["kv_bytes"] = kvBytes,
                    ["transfer_gbps"] = Math.Round(gbps, 4),
                    ["backend"] = used,
                    ["model"] = model,
                    ["prompt_chars"] = prompt.Length,
                    ["colocated_ttft_ms"] = Math.Round(colocated.TtftMs, 3),
                    ["colocated_tpot_ms"] = Math.Round(colocated.TpotMs, 3),
                    ["transfer_ms"] = Math.Round(transferMs, 3),
                    ["topology"] = cluster.Topology,
                }, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
            else
            {
                var c = CultureInfo.InvariantCulture;
                Console.WriteLine($"prompt:        {Shorten(prompt)}");
                Console.WriteLine($"text:          {split.Text}");
                Console.WriteLine($"tokens:        {split.Tokens}");
                Console.WriteLine(string.Create(c, $"TTFT:          {split.TtftMs:0.00} ms disaggregated, {colocated.TtftMs:0.00} ms colocated"));
                Console.WriteLine(string.Create(c, $"TPOT:          {split.TpotMs:0.000} ms disaggregated, {colocated.TpotMs:0.000} ms colocated"));
                Console.WriteLine($"KV moved:      {kvBytes} bytes");
                Console.WriteLine(string.Create(c, $"transfer:      {transferMs:0.000} ms, {gbps:0.000} Gbit/s"));
                Console.WriteLine($"backend:       {used}");
                Console.WriteLine($"identical to colocated generation: {(identical ? "yes" : "NO")}");
                if (!identical) Console.WriteLine($"colocated text: {colocated.Text}");
            }
            return identical ? 0 : 1;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("pdrdma demo: interrupted; stopping everything it started");
            return 130;
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TimeoutException or IOException or JsonException)
        {
            await Console.Error.WriteLineAsync($"pdrdma demo failed: {e.Message}");
            if (cluster is not null)
            {
                cluster.KeepLogs = true;
                await Console.Error.WriteLineAsync($"logs: {cluster.WorkDirectory}");
            }
            return 1;
        }
        finally
        {
            if (cluster is not null) await cluster.DisposeAsync();
            Console.CancelKeyPress -= onCancel;
            AppDomain.CurrentDomain.ProcessExit -= onExit;
        }
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : $"{text[..60]}... ({text.Length} characters)";

    /// <summary>A prompt of about <paramref name="length"/> tokens (characters for the toy model's tokenizer).</summary>
    private static string SyntheticPrompt(int length)
    {
        const string Story = "Once upon a time there was a little robot who liked to move memory between machines. ";
        var text = string.Concat(Enumerable.Repeat(Story, length / Story.Length + 1));
        return text[..length];
    }
}
