using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using PdRdma.Hosting.Clusters;

namespace PdRdma.Tests.Serving;

/// <summary>
/// The OpenAI API as clients use it, on a live two-node cluster: the official npm `openai` client (a client nobody
/// here wrote) against the colocated server and through the proxy, hostile bodies answered identically by both, and
/// a client that goes away stops the engine's work.
/// </summary>
public sealed class OpenAiApiTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly LocalCluster _cluster = fixture.Cluster;
    // No draining of a response disposed before its end: the connection closes at once, as a client that goes away does
    // (HttpClient's default reads on up to 1 MiB for 2 s to reuse the connection, and the server keeps generating meanwhile).
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { Timeout = TimeSpan.FromSeconds(120) };

    private static string ClientFolder => Path.Combine(Engines.TestModels.RepoRoot, "tests", "clients", "openai");

    private static async Task<JsonElement> RunNpmClientAsync(string baseUrl)
    {
        Assert.True(File.Exists(Path.Combine(ClientFolder, "node_modules", "openai", "package.json")),
            $"the openai npm client is not installed in {ClientFolder}: run scripts/setup.sh (npm ci there)");
        var info = new ProcessStartInfo("node") { WorkingDirectory = ClientFolder, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("client.mjs");
        info.ArgumentList.Add(baseUrl + "/v1");
        info.ArgumentList.Add(ClusterFixture.Model);
        using var node = Process.Start(info)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        try
        {
            await node.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
        }
        catch (TimeoutException)
        {
            node.Kill();
            Assert.Fail($"node client.mjs against {baseUrl} did not finish in 4 minutes; it got as far as:\n{await stderr}");
        }
        Assert.True(node.ExitCode == 0, $"node client.mjs against {baseUrl} exited {node.ExitCode}:\n{await stderr}\n{await stdout}");
        using var json = JsonDocument.Parse((await stdout).Trim());
        return json.RootElement.Clone();
    }

    [Fact]
    public async Task NpmOpenAiClientGetsTheSameAnswersColocatedAndThroughTheProxy()
    {
        var colocated = await RunNpmClientAsync(_cluster.ColocatedUrl);
        var proxied = await RunNpmClientAsync(_cluster.ProxyUrl);

        var completion = colocated.GetProperty("completion");
        Assert.StartsWith(", there was a little girl named Lily", completion.GetProperty("text").GetString());
        Assert.Equal("length", completion.GetProperty("finish_reason").GetString());
        Assert.Equal(24, completion.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(5, completion.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var streamed = colocated.GetProperty("completion_stream");
        Assert.Equal(completion.GetProperty("text").GetString(), streamed.GetProperty("text").GetString());
        Assert.Equal(29, streamed.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.Equal("assistant", colocated.GetProperty("chat").GetProperty("role").GetString());
        Assert.Equal(colocated.GetProperty("chat").GetProperty("content").GetString(), colocated.GetProperty("chat_stream").GetProperty("content").GetString());
        Assert.Equal("assistant", colocated.GetProperty("chat_stream").GetProperty("role").GetString());
        Assert.Equal(24, colocated.GetProperty("chat_stream").GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("stop", colocated.GetProperty("stop").GetProperty("finish_reason").GetString());
        Assert.DoesNotContain(".", colocated.GetProperty("stop").GetProperty("text").GetString());
        Assert.Equal("stop", colocated.GetProperty("end_of_text").GetProperty("finish_reason").GetString());
        Assert.True(colocated.GetProperty("end_of_text").GetProperty("tokens").GetInt32() < 400);
        Assert.Equal(3, colocated.GetProperty("n").GetProperty("choices").GetInt32());
        Assert.StartsWith(", there was", colocated.GetProperty("token_ids").GetProperty("text").GetString());
        foreach (var (name, status, param, code) in new[]
        {
            ("bad_temperature", 400, "temperature", (string?)null), ("unknown_model", 404, "model", "model_not_found"),
            ("over_context", 400, "prompt", "context_length_exceeded"), ("bad_token", 400, "prompt", null),
        })
        {
            var refusal = colocated.GetProperty(name);
            Assert.Equal(status, refusal.GetProperty("status").GetInt32());
            Assert.Equal("invalid_request_error", refusal.GetProperty("type").GetString());
            Assert.Equal(param, refusal.GetProperty("param").GetString());
            Assert.Equal(code, refusal.GetProperty("code").GetString());
        }
        // The proxy answers exactly as the colocated server: same texts, finish reasons, usage and refusals.
        Assert.Equal(colocated.GetRawText(), proxied.GetRawText());
    }

    public static TheoryData<string, string> HostileBodies() => new()
    {
        { "text/plain", "hello" },
        { "application/json", "not json at all" },
        { "application/json", "[1,2,3]" },
        { "application/json", "" },
        { "application/json", "{\"prompt\":\"x\",\"temperature\":-1}" },
        { "application/json", "{\"prompt\":\"x\",\"max_tokens\":100000}" },
        { "application/json", "{\"prompt\":\"x\",\"n\":1000}" },
        { "application/json", "{\"prompt\":\"x\",\"logprobs\":1}" },
        { "application/json", "{\"prompt\":\"x\",\"model\":\"gpt-4\"}" },
        { "application/json", "{\"prompt\":[1,600]}" },
        { "application/json", "{\"prompt\":\"" + string.Concat(Enumerable.Repeat("Once upon a time ", 200)) + "\"}" },
        { "application/json", "{\"prompt\":\"" + string.Concat(Enumerable.Repeat("a b ", 2000)) + "\"}" },
        { "application/json", "{\"prompt\":\"" + new string('z', 1_100_000) + "\"}" },
    };

    [Theory]
    [MemberData(nameof(HostileBodies))]
    public async Task HostileBodiesGetTheSame4xxFromColocatedAndProxy(string contentType, string body)
    {
        async Task<(HttpStatusCode Status, string Body)> SendAsync(string url)
        {
            using var content = new StringContent(body, Encoding.UTF8);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
            using var response = await _http.PostAsync(url + "/v1/completions", content);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        var colocated = await SendAsync(_cluster.ColocatedUrl);
        var proxied = await SendAsync(_cluster.ProxyUrl);
        Assert.InRange((int)colocated.Status, 400, 499);
        using var json = JsonDocument.Parse(colocated.Body);
        var error = json.RootElement.GetProperty("error");
        foreach (var key in new[] { "message", "type", "param", "code" }) Assert.True(error.TryGetProperty(key, out _), $"error.{key} missing: {colocated.Body}");
        Assert.True(error.GetProperty("code").ValueKind is JsonValueKind.String or JsonValueKind.Null);
        Assert.Equal(colocated.Status, proxied.Status);
        Assert.Equal(colocated.Body, proxied.Body);
    }

    [Fact]
    public async Task AClientThatGoesAwayStopsTheEnginesWork()
    {
        // Twice the same long request: once read to the end, once abandoned after its first token.
        var body = "{\"prompt\":\"Once upon a time\",\"max_tokens\":480,\"temperature\":0.9,\"seed\":3,\"n\":8,\"stream\":true}";
        foreach (var (url, metrics) in new[] { (_cluster.ColocatedUrl, _cluster.ColocatedUrl), (_cluster.ProxyUrl, _cluster.DecodeUrl) })
        {
            var before = await GeneratedAsync(metrics);
            using (var full = await PostStreamAsync(url, body))
            {
                await full.Content.ReadAsStringAsync();
            }
            await IdleAsync(metrics);
            var whole = await GeneratedAsync(metrics) - before;
            Assert.True(whole > 1000, $"the full request generated only {whole} tokens");

            before = await GeneratedAsync(metrics);
            using (var abandoned = await PostStreamAsync(url, body))
            {
                using var reader = new StreamReader(await abandoned.Content.ReadAsStreamAsync());
                Assert.StartsWith("data: ", await reader.ReadLineAsync());
            }
            await IdleAsync(metrics);
            var partial = await GeneratedAsync(metrics) - before;
            Assert.True(partial < whole / 2, $"{url}: an abandoned request generated {partial} of the {whole} tokens of a full one");
        }
    }

    private async Task<HttpResponseMessage> PostStreamAsync(string url, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url + "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }

    private async Task IdleAsync(string url)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var health = await Completions.HealthAsync(_http, url + "/health");
            if (health.GetProperty("running").GetInt32() == 0 && health.GetProperty("queued").GetInt32() == 0 && health.GetProperty("reservations").GetInt32() == 0) return;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"{url} still busy: {health}");
            await Task.Delay(50);
        }
    }

    private async Task<long> GeneratedAsync(string url)
    {
        var text = await _http.GetStringAsync(url + "/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("pdrdma_engine_generated_tokens_total", StringComparison.Ordinal));
        return line is null ? 0 : (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
