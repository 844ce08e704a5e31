using System.Net;
using System.Security.Cryptography;
using PdRdma.Engines.Serving;

namespace PdRdma.Tests.Serving;

/// <summary>
/// The host-staged KV hand-over that serve --role prefill|decode --device cuda uses, run on the CPU (ServeOptions.StageKv
/// stages the host pool the same way): prefill copies each layer's blocks into a mirror the transfer library reads,
/// decode copies its granted blocks in from its mirror; the text through the proxy equals colocated generation.
/// </summary>
public sealed class StagedKvPathTests
{
    private static int FreePort()
    {
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    [Fact]
    public async Task PrefillAndDecodeWithStagedPools_GenerateWhatColocatedGenerates()
    {
        var folder = Daemon.TestPathsAccess.Scratch("staged");
        var secret = Path.Combine(folder, "cluster.key");
        await File.WriteAllBytesAsync(secret, RandomNumberGenerator.GetBytes(32));
        int prefillPort = FreePort(), decodePort = FreePort(), colocatedPort = FreePort(), proxyPort = FreePort();
        await using var prefill = await ServingHost.StartAsync(new ServeOptions { Role = "prefill", Port = prefillPort, SecretFile = secret, NodeId = "staged-a", StageKv = true }, CancellationToken.None);
        await using var decode = await ServingHost.StartAsync(new ServeOptions { Role = "decode", Port = decodePort, SecretFile = secret, NodeId = "staged-b", StageKv = true }, CancellationToken.None);
        await using var colocated = await ServingHost.StartAsync(new ServeOptions { Port = colocatedPort }, CancellationToken.None);
        await using var proxy = await ProxyHost.StartAsync(new ProxyOptions { Prefill = [$"http://127.0.0.1:{prefillPort}"], Decode = [$"http://127.0.0.1:{decodePort}"], Port = proxyPort }, CancellationToken.None);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };

        foreach (var port in new[] { prefillPort, decodePort })
        {
            var health = await Completions.HealthAsync(http, $"http://127.0.0.1:{port}/health");
            Assert.True(health.GetProperty("kv_staged").GetBoolean(), health.ToString());
        }
        foreach (var prompt in new[] { "Once upon a time", "The cat sat on the mat and" })
        {
            Assert.Equal(await Completions.TextAsync(http, $"http://127.0.0.1:{colocatedPort}", prompt, 12),
                await Completions.TextAsync(http, $"http://127.0.0.1:{proxyPort}", prompt, 12));
        }
    }

    [Theory]
    [InlineData("maybe")]
    [InlineData("TRUE")]
    [InlineData("")]
    public async Task AStageKvValueOtherThanTrueOrFalseIsOneLineAndExit2(string value)
    {
        var hostile = value == "" ? new string('x', 100_000) : value;
        var (code, output) = await Daemon.TestPaths.RunCliAsync(TimeSpan.FromSeconds(90), "serve", "--stage-kv", hostile, "--port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), l => l.StartsWith("pdrdma serve:", StringComparison.Ordinal));
        Assert.Contains("--stage-kv", line);
        Assert.True(line.Length < 300, line);
    }
}
