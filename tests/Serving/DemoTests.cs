using System.Text.Json;

namespace PdRdma.Tests.Serving;

public sealed class DemoTests
{
    [RootFact]
    public Task DemoJsonAcrossTwoNetworkNamespaces_Root() => RunAsync();

    [Fact]
    public Task DemoJsonOnLoopback() => RunAsync("--loopback");

    private static async Task RunAsync(params string[] extra)
    {
        var (code, output) = await Daemon.TestPathsAccess.RunCliAsync(TimeSpan.FromMinutes(4), ["demo", "--json", "--max-tokens", "12", .. extra]);
        Assert.True(code == 0, $"demo exited {code}:\n{output}");
        var line = output.Split('\n').Single(l => l.StartsWith('{'));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        foreach (var key in new[] { "text", "tokens", "identical_to_colocated", "ttft_ms", "tpot_ms", "kv_bytes", "transfer_gbps", "backend" })
            Assert.True(root.TryGetProperty(key, out _), $"key {key} missing in {line}");
        Assert.True(root.GetProperty("identical_to_colocated").GetBoolean());
        Assert.InRange(root.GetProperty("tokens").GetInt32(), 1, 12);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("text").GetString()));
        Assert.True(root.GetProperty("kv_bytes").GetInt64() > 0);
        Assert.True(root.GetProperty("ttft_ms").GetDouble() > 0);
        Assert.Equal("tcp", root.GetProperty("backend").GetString());
        if (extra.Length == 0) Assert.Contains("network namespaces", root.GetProperty("topology").GetString());
        var leftovers = new System.Diagnostics.ProcessStartInfo("ip", "netns list") { RedirectStandardOutput = true };
        if (extra.Length == 0)
        {
            using var ip = System.Diagnostics.Process.Start(leftovers)!;
            Assert.DoesNotContain("pdm-", await ip.StandardOutput.ReadToEndAsync()); // the demo removed its namespaces
        }
    }
}
