using PdRdma.Hosting.Clients;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PdRdma.Hosting.Clusters;

namespace PdRdma.Tests.Serving;

public sealed class ProxyTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private readonly LocalCluster _cluster = fixture.Cluster;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(120) };

    [Fact]
    public async Task FiftyConcurrentRequestsAllCompleteEachIdenticalToColocated()
    {
        var words = new[] { "Once upon a time", "The little dog", "Lily saw a bird", "Tom and his mom went", "One day" };
        var prompts = Enumerable.Range(0, 50).Select(i => string.Join(' ', Enumerable.Repeat(words[i % words.Length], 1 + i / 5))).ToArray();
        var split = await Task.WhenAll(prompts.Select(p => Completions.TextAsync(_http, _cluster.ProxyUrl, p, 8)));
        var colocated = await Task.WhenAll(prompts.Select(p => Completions.TextAsync(_http, _cluster.ColocatedUrl, p, 8)));
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.False(string.IsNullOrEmpty(split[i]), $"empty completion for prompt {i}");
            Assert.Equal(colocated[i], split[i]);
        }
        // Nothing left behind: every lease and reservation of the 50 requests was returned.
        var decode = await Completions.HealthAsync(_http, _cluster.DecodeUrl + "/health");
        Assert.Equal(0, decode.GetProperty("reservations").GetInt32());
        var daemon = await Completions.HealthAsync(_http, _cluster.DaemonBHealth);
        Assert.Equal(0, daemon.GetProperty("leases_active").GetInt32());
    }

    [Fact]
    public async Task StreamingFollowsOpenAiServerSentEvents()
    {
        var result = await CompletionClient.StreamAsync(_http, _cluster.ProxyUrl, "Hello", 5, CancellationToken.None);
        Assert.InRange(result.Tokens, 1, 5);
        Assert.Equal(await Completions.TextAsync(_http, _cluster.ColocatedUrl, "Hello", 5), result.Text);
        Assert.True(result.Stats!.Value.GetProperty("kv_bytes").GetInt64() > 0);
        Assert.Equal("tcp", result.Stats.Value.GetProperty("backend").GetString());

        using var raw = await _http.PostAsJsonAsync(_cluster.ProxyUrl + "/v1/completions", new { prompt = "Hi", max_tokens = 3, stream = true });
        Assert.Equal("text/event-stream", raw.Content.Headers.ContentType!.MediaType);
        var lines = (await raw.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.StartsWith("data: ", l));
        Assert.Equal("data: [DONE]", lines[^1]);
        using var chunk = JsonDocument.Parse(lines[0][6..]);
        Assert.Equal("text_completion", chunk.RootElement.GetProperty("object").GetString());
    }

    [Fact]
    public async Task ModelsHealthAndMetricsAnswer()
    {
        using var models = JsonDocument.Parse(await _http.GetStringAsync(_cluster.ProxyUrl + "/v1/models"));
        Assert.Equal(ClusterFixture.Model, models.RootElement.GetProperty("data")[0].GetProperty("id").GetString());
        var health = await Completions.HealthAsync(_http, _cluster.ProxyUrl + "/health");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.True(health.GetProperty("decode")[0].GetProperty("alive").GetBoolean());
        await Completions.TextAsync(_http, _cluster.ProxyUrl, "metrics please", 4);
        var metrics = await _http.GetStringAsync(_cluster.DaemonAHealth.Replace("/health", "/metrics"));
        bool Has(string text, string name, string value, params string[] labels) => text.Split('\n').Any(l =>
            l.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(x => l.Contains(x, StringComparison.Ordinal)) && (value.Length == 0 || l.EndsWith(" " + value, StringComparison.Ordinal)));
        Assert.True(Has(metrics, "pdrdma_daemon_written_bytes_total", "", "peer=\"node-b\"", "backend=\"tcp\""), metrics);
        Assert.Contains("pdrdma_daemon_transfer_latency_seconds_bucket", metrics);
        Assert.True(Has(metrics, "pdrdma_daemon_peer_links", "1", "peer=\"node-b\"", "backend=\"tcp\""), metrics);
        var decodeMetrics = await _http.GetStringAsync(_cluster.DaemonBHealth.Replace("/health", "/metrics"));
        Assert.Contains("pdrdma_daemon_leases_active", decodeMetrics);
        Assert.Contains("pdrdma_daemon_received_bytes_total{peer=\"node-a\"}", decodeMetrics);
    }

    [Fact]
    public async Task BadRequestsGetOpenAiErrors()
    {
        using var tooMany = await _http.PostAsJsonAsync(_cluster.ProxyUrl + "/v1/completions", new { prompt = "x", max_tokens = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("max_tokens", await tooMany.Content.ReadAsStringAsync());
        using var sampled = await _http.PostAsJsonAsync(_cluster.ColocatedUrl + "/v1/completions", new { prompt = "x", temperature = -1 });
        Assert.Equal(HttpStatusCode.BadRequest, sampled.StatusCode);
        using var hot = await _http.PostAsJsonAsync(_cluster.ProxyUrl + "/v1/completions", new { prompt = "x", temperature = 2.5 });
        Assert.Equal(HttpStatusCode.BadRequest, hot.StatusCode);
    }
}
