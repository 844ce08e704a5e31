using System.Net.Http.Json;
using System.Text.Json;

namespace PdRdma.Tests.Serving;

/// <summary>Plain (non-streaming) OpenAI completion calls for tests.</summary>
internal static class Completions
{
    public static async Task<string> TextAsync(HttpClient http, string baseUrl, string prompt, int maxTokens)
    {
        using var response = await http.PostAsJsonAsync(baseUrl + "/v1/completions", new { prompt, max_tokens = maxTokens, temperature = 0 });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{baseUrl} answered {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }

    public static async Task<JsonElement> HealthAsync(HttpClient http, string url)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync(url));
        return json.RootElement.Clone();
    }
}
