using System.Text.Json;
using PdRdma.Tests.Perf;
using PdRdma.Hosting.Processes;

namespace PdRdma.Tests.Engines;

/// <summary><c>pdrdma demo --prefill-layout ... --decode-layout ... --json</c> as a user runs it, and hostile layout options.</summary>
[Trait("Category", "KvLayout")]
public sealed class LayoutDemoTests
{
    [Fact]
    public async Task TheIssuesDemoLineStaysIdenticalToColocated()
    {
        var (exit, stdout, stderr) = await PdrdmaProgram.Cli.RunAsync(TimeSpan.FromMinutes(3),
            "demo", "--prefill-layout", "block=16,tp=2", "--decode-layout", "block=64,order=token-major,tp=1", "--json");
        Assert.True(exit == 0, $"exit {exit}: {stdout} {stderr}");
        using var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.True(json.RootElement.GetProperty("identical_to_colocated").GetBoolean());
        Assert.True(json.RootElement.GetProperty("kv_bytes").GetInt64() > 0);
        Assert.Contains("block 16->64, tp 2->1", json.RootElement.GetProperty("topology").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--prefill-layout", "block=0")]
    [InlineData("--decode-layout", "order=diagonal")]
    [InlineData("--decode-layout", "tp=3")]
    public async Task HostileLayoutsAreRefusedWithTheReason(string option, string value)
    {
        var (exit, _, stderr) = await PdrdmaProgram.Cli.RunAsync(TimeSpan.FromMinutes(2), "demo", option, value, "--json");
        Assert.NotEqual(0, exit);
        Assert.True(stderr.Contains("block", StringComparison.Ordinal) || stderr.Contains("order", StringComparison.Ordinal) || stderr.Contains("tp=3", StringComparison.Ordinal), stderr);
    }
}
