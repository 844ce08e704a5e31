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
        int Free()
        {
            using var s = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return ((IPEndPoint)s.LocalEndPoint!).Port;
        }
        var port = Free();
        var prefill = $"http://127.0.0.1:{Free()}";
        await using var proxy = await ProxyHost.StartAsync(new ProxyOptions { Prefill = [prefill], Decode = [$"http://127.0.0.1:{Free()}"], Port = port }, CancellationToken.None);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var clock = Stopwatch.StartNew();
        using var response = await http.PostAsJsonAsync($"http://127.0.0.1:{port}/v1/completions", new { prompt = "hello", max_tokens = 4 });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("prefill instance " + prefill, body);
        Assert.Contains("unreachable", body);
    }
}
