using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace PdRdma.Hosting.Clients;

/// <summary>Streams an OpenAI completion and measures TTFT (request → first text chunk) and TPOT (mean gap between later tokens).</summary>
public static class CompletionClient
{
    public static async Task<CompletionResult> StreamAsync(HttpClient http, string baseUrl, string prompt, int maxTokens, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl.TrimEnd('/') + "/v1/completions")
        {
            Content = JsonContent.Create(new { prompt, max_tokens = maxTokens, stream = true, temperature = 0 }),
        };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{baseUrl} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false)}");
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var reader = new StreamReader(body);
        var text = new StringBuilder();
        double? first = null;
        double last = 0;
        var tokens = 0;
        JsonElement? stats = null;
        var done = false;
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var data = line[6..];
            if (data == "[DONE]") { done = true; break; }
            using var json = JsonDocument.Parse(data);
            if (json.RootElement.TryGetProperty("error", out var error))
                throw new HttpRequestException($"{baseUrl} failed mid-stream: {error.GetProperty("message").GetString()}");
            if (json.RootElement.TryGetProperty("pdrdma", out var extra)) stats = extra.Clone();
            var piece = json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString() ?? "";
            if (piece.Length == 0) continue;
            var now = clock.Elapsed.TotalMilliseconds;
            first ??= now;
            last = now;
            tokens++;
            text.Append(piece);
        }
        if (!done) throw new HttpRequestException($"{baseUrl} ended the stream without [DONE]");
        var tpot = tokens > 1 ? (last - first!.Value) / (tokens - 1) : 0;
        return new CompletionResult(text.ToString(), tokens, first ?? 0, tpot, stats);
    }
}
