using System.Text.Json;
using PdRdma.Hosting.Processes;

namespace PdRdma.Tests.Perf;

/// <summary>
/// `pdrdma bench transfer --size 65536 --json` for real (two processes, a tiny size, a short budget): the output is one
/// JSON object per line with the documented keys. No speed is asserted; only that bytes moved and the ratio is consistent.
/// </summary>
public sealed class BenchTransferJsonTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [TransferAgentFact]
    public async Task ShmPrintsOneObjectPerSizeAgainstMemcpy()
    {
        var line = await RunOneSizeAsync("shm");
        Assert.Equal("shm", line.GetProperty("backend").GetString());
        Assert.Equal("memcpy", line.GetProperty("baseline").GetString());
        Assert.True(line.GetProperty("baseline_gbps").GetDouble() > 0);
    }

    [TransferAgentFact]
    public async Task TcpPrintsOneObjectPerSizeAgainstIperf3()
    {
        var line = await RunOneSizeAsync("tcp");
        Assert.Equal("tcp", line.GetProperty("backend").GetString());
        Assert.Equal("iperf3", line.GetProperty("baseline").GetString());
        if (ExternalTool.Find("iperf3") is not null) Assert.True(line.GetProperty("baseline_gbps").GetDouble() > 0, "iperf3 is installed, so its rate must be there");
    }

    private static async Task<JsonElement> RunOneSizeAsync(string backend)
    {
        // loopback: a test must not depend on root, nor collide with a benchmark run's namespaces
        var (exit, stdout, stderr) = await PdrdmaProgram.Cli.RunAsync(Limit, "bench", "transfer", "--backend", backend, "--size", "65536", "--json", "--loopback", "--budget-ms", "100");
        Assert.True(exit == 0, $"exit {exit}; stderr: {stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement.Clone();
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        foreach (var key in new[] { "backend", "bytes", "gbps", "baseline", "baseline_gbps", "ratio" })
        {
            Assert.True(root.TryGetProperty(key, out _), $"key '{key}' missing in {line}");
        }
        Assert.Equal(65536, root.GetProperty("bytes").GetInt64());
        var gbps = root.GetProperty("gbps").GetDouble();
        Assert.True(gbps > 0, $"no bytes moved: {line}");
        var baseline = root.GetProperty("baseline_gbps").GetDouble();
        // the ratio is computed from the figures as printed (rounded), so it is recomputed here exactly, not to a tolerance
        if (baseline > 0) Assert.Equal(Math.Round(gbps / baseline, 3), root.GetProperty("ratio").GetDouble());
        return root;
    }
}
