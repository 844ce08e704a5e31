using PdRdma.Hosting.Clients;
using System.Globalization;
using System.Text.Json;

namespace PdRdma.Cli.Demo;

/// <summary>The demo's client side: warm-up, the prompt colocated and disaggregated, and the report (text or one JSON line).</summary>
public static class DemoMeasurement
{
    public static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<DemoResult> RunAsync(string colocatedUrl, string proxyUrl, string prompt, int maxTokens, string model, string topology, TimeSpan requestTimeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = requestTimeout };
        // Both paths run the same request twice first: JIT, connection setup, peer authentication and the first
        // touch of the pools are not part of TTFT, and both sides are equally warm when timed.
        for (var i = 0; i < 2; i++)
        {
            await CompletionClient.StreamAsync(http, colocatedUrl, prompt, maxTokens, ct).ConfigureAwait(false);
            await CompletionClient.StreamAsync(http, proxyUrl, prompt, maxTokens, ct).ConfigureAwait(false);
        }
        var colocated = await CompletionClient.StreamAsync(http, colocatedUrl, prompt, maxTokens, ct).ConfigureAwait(false);
        var split = await CompletionClient.StreamAsync(http, proxyUrl, prompt, maxTokens, ct).ConfigureAwait(false);
        var stats = split.Stats;
        var kvBytes = stats?.GetProperty("kv_bytes").GetInt64() ?? 0;
        var transferMs = stats?.GetProperty("transfer_ms").GetDouble() ?? 0;
        var gbps = transferMs > 0 ? kvBytes * 8 / (transferMs / 1000) / 1e9 : 0;
        return new DemoResult
        {
            Text = split.Text,
            Tokens = split.Tokens,
            IdenticalToColocated = split.Text == colocated.Text,
            TtftMs = Math.Round(split.TtftMs, 3),
            TpotMs = Math.Round(split.TpotMs, 3),
            KvBytes = kvBytes,
            TransferGbps = Math.Round(gbps, 4),
            Backend = stats?.GetProperty("backend").GetString() ?? "?",
            Model = model,
            PromptChars = prompt.Length,
            ColocatedTtftMs = Math.Round(colocated.TtftMs, 3),
            ColocatedTpotMs = Math.Round(colocated.TpotMs, 3),
            TransferMs = Math.Round(transferMs, 3),
            Topology = topology,
            ColocatedText = colocated.Text,
        };
    }

    public static void Print(DemoResult result, string prompt, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(result, Json));
            return;
        }
        var c = CultureInfo.InvariantCulture;
        var mbps = result.TransferMs > 0 ? result.KvBytes / (result.TransferMs / 1000) / 1e6 : 0;
        Console.WriteLine($"prompt:        {Shorten(prompt)}");
        Console.WriteLine($"text:          {result.Text}");
        Console.WriteLine($"tokens:        {result.Tokens}");
        Console.WriteLine(string.Create(c, $"TTFT:          {result.TtftMs:0.00} ms disaggregated, {result.ColocatedTtftMs:0.00} ms colocated"));
        Console.WriteLine(string.Create(c, $"TPOT:          {result.TpotMs:0.000} ms disaggregated, {result.ColocatedTpotMs:0.000} ms colocated"));
        Console.WriteLine($"KV moved:      {result.KvBytes} bytes");
        Console.WriteLine(string.Create(c, $"transfer:      {result.TransferMs:0.000} ms, {result.TransferGbps:0.0000} Gbit/s ({mbps:0.00} MB/s)"));
        Console.WriteLine($"backend:       {result.Backend}");
        Console.WriteLine($"topology:      {result.Topology}");
        Console.WriteLine($"identical to colocated generation: {(result.IdenticalToColocated ? "yes" : "NO")}");
        if (!result.IdenticalToColocated) Console.WriteLine($"colocated text: {result.ColocatedText}");
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : $"{text[..60]}... ({text.Length} characters)";
}
