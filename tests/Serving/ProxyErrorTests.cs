using PdRdma.Hosting.Network;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using PdRdma.Engines.Serving;

namespace PdRdma.Tests.Serving;

public sealed class ProxyErrorTests
{
    [Fact]
    public async Task UnreachableInstancesGiveAClearErrorNotAHang()
    {
        var port = FreePorts.One();
        var prefill = $"http://127.0.0.1:{FreePorts.One()}";
        var decode = $"http://127.0.0.1:{FreePorts.One()}";
        await using var proxy = await ProxyHost.StartAsync(new ProxyOptions { Prefill = [prefill], Decode = [decode], Port = port }, CancellationToken.None);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var clock = Stopwatch.StartNew();
        using var response = await http.PostAsJsonAsync($"http://127.0.0.1:{port}/v1/completions", new { prompt = "hello", max_tokens = 4 });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        // The proxy first learns the served model from a decode instance (to check the request's model as a colocated server would).
        Assert.Contains("decode instance " + decode, body);
        Assert.Contains("unreachable", body);

        // Its /health says so: no upstream alive is 503, not "ok".
        using var health = await http.GetAsync($"http://127.0.0.1:{port}/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using var json = System.Text.Json.JsonDocument.Parse(await health.Content.ReadAsStringAsync());
        Assert.Equal("unavailable", json.RootElement.GetProperty("status").GetString());
        Assert.False(json.RootElement.GetProperty("decode")[0].GetProperty("alive").GetBoolean());
    }
}
