using PdRdma.Hosting.Network;
using System.Security.Cryptography;
using PdRdma.Hosting.Clusters;
using PdRdma.Hosting.Processes;

namespace PdRdma.Tests.Serving;

/// <summary>Engines with the transfer machinery linked in-process (no daemon): prefill and decode processes, the proxy.</summary>
public sealed class InProcessPathTests
{
    [Fact]
    public async Task WithoutADaemonTheEnginesPushKvThemselves()
    {
        var folder = Daemon.TestPathsAccess.Scratch("inproc");
        var secret = Path.Combine(folder, "cluster.key");
        await File.WriteAllBytesAsync(secret, RandomNumberGenerator.GetBytes(32));
        var ports = FreePorts.Take(4);
        var (prefillPort, decodePort, colocatedPort, proxyPort) = (ports[0], ports[1], ports[2], ports[3]);
        ChildProcess Start(string name, params string[] args) => ChildProcess.Start(name, PdrdmaProgram.Cli.Line(args), Path.Combine(folder, name + ".log"));
        var model = ClusterFixture.Model;
        using var prefill = Start("prefill", "serve", "--role", "prefill", "--model", model, "--port", $"{prefillPort}", "--secret-file", secret, "--node-id", "inproc-a");
        using var decode = Start("decode", "serve", "--role", "decode", "--model", model, "--port", $"{decodePort}", "--secret-file", secret, "--node-id", "inproc-b");
        using var colocated = Start("colocated", "serve", "--role", "colocated", "--model", model, "--port", $"{colocatedPort}");
        using var proxy = Start("proxy", "proxy", "--prefill", $"http://127.0.0.1:{prefillPort}", "--decode", $"http://127.0.0.1:{decodePort}", "--port", $"{proxyPort}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        foreach (var (part, port) in new[] { (prefill, prefillPort), (decode, decodePort), (colocated, colocatedPort), (proxy, proxyPort) })
            await HealthProbe.WaitAsync(part, $"http://127.0.0.1:{port}/health", TimeSpan.FromSeconds(90), CancellationToken.None);

        var health = await Completions.HealthAsync(http, $"http://127.0.0.1:{decodePort}/health");
        Assert.Equal("in-process", health.GetProperty("mode").GetString());
        foreach (var prompt in new[] { "Once upon a time", "The cat sat" })
        {
            Assert.Equal(await Completions.TextAsync(http, $"http://127.0.0.1:{colocatedPort}", prompt, 12),
                await Completions.TextAsync(http, $"http://127.0.0.1:{proxyPort}", prompt, 12));
        }
    }
}
