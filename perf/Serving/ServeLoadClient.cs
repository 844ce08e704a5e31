using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PdRdma.Perf.Serving;

/// <summary>Sends one streamed OpenAI completion (temperature 0, usage in the last chunk) and times every token chunk.</summary>
public static class ServeLoadClient
{
    public static async Task<ServeRequestResult> RunAsync(HttpClient http, string baseUrl, int index, string prompt, int maxTokens, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl.TrimEnd('/') + "/v1/completions")
            {
                Content = JsonContent.Create(new { prompt, max_tokens = maxTokens, temperature = 0, stream = true, stream_options = new { include_usage = true } }),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return Failed(index, clock, $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)}");
            await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            using var reader = new StreamReader(body);
            var text = new StringBuilder();
            var times = new List<double>();
            int tokens = 0;
            double transfer = 0;
            var parts = new TtftParts();
            var done = false;
            while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                if (line == "data: [DONE]") { done = true; break; }
                var now = clock.Elapsed.TotalMilliseconds;
                using var json = JsonDocument.Parse(line.AsMemory(6));
                var root = json.RootElement;
                if (root.TryGetProperty("error", out var error)) return Failed(index, clock, error.GetProperty("message").GetString() ?? "error");
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object) tokens = usage.GetProperty("completion_tokens").GetInt32();
                if (root.TryGetProperty("pdrdma", out var stats) && stats.TryGetProperty("transfer_ms", out var t))
                {
                    transfer = t.GetDouble();
                    double Get(string name) => stats.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
                    parts = new TtftParts(Get("reserve_ms"), Get("prefill_call_ms"), Get("prefill_ms"), Get("exposed_ms"), Get("decode_first_token_ms"));
                }
                if (root.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0)
                {
                    var piece = choices[0].GetProperty("text").GetString() ?? "";
                    if (piece.Length == 0) continue;
                    text.Append(piece);
                    times.Add(now);
                }
            }
            if (!done) return Failed(index, clock, "the stream ended without [DONE]");
            var end = clock.Elapsed.TotalMilliseconds;
            var itl = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
            return new ServeRequestResult(index, true, text.ToString(), Math.Max(tokens, times.Count), times.Count > 0 ? times[0] : end, end, itl, transfer, null) { Parts = parts };
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException || e is OperationCanceledException && !ct.IsCancellationRequested)
        {
            return Failed(index, clock, e.Message);
        }
    }

    private static ServeRequestResult Failed(int index, Stopwatch clock, string error) =>
        new(index, false, "", 0, 0, clock.Elapsed.TotalMilliseconds, [], 0, error);
}
