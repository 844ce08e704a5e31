using System.Text.Json;
using PdRdma.Tests.Daemon;

namespace PdRdma.Tests.Verbs;

/// <summary>
/// The main job on real verbs: `demo --backend verbs --json` puts node A (daemon, prefill, proxy, colocated engine)
/// in one Soft-RoCE VM and node B (daemon, decode engine) in the other; the KV crosses by RDMA WRITE and the
/// disaggregated answer equals colocated generation.
/// </summary>
[Trait("Category", "Verbs")]
public sealed class TwoVmDemoTests
{
    [SoftRoceVmFact]
    public async Task TwoVms_DemoWithVerbsBackend_OutputEqualsColocatedGeneration()
    {
        var port = Random.Shared.Next(44100, 45000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (code, output) = await TestPathsAccess.RunCliAsync(TimeSpan.FromMinutes(27), ["demo", "--backend", "verbs", "--json", "--max-tokens", "6", "--vm-port", port, "--vm-timeout", "1500"]);
        var line = output.Split('\n').SingleOrDefault(l => l.StartsWith('{'));
        Assert.True(line is not null, $"demo exited {code} without a JSON line:\n{output}");
        using var json = JsonDocument.Parse(line!);
        var root = json.RootElement;
        Assert.Equal("verbs", root.GetProperty("backend").GetString());
        Assert.True(root.GetProperty("identical_to_colocated").GetBoolean(), line);
        Assert.Contains("Soft-RoCE", root.GetProperty("topology").GetString());
        Assert.InRange(root.GetProperty("tokens").GetInt32(), 1, 6);
        Assert.True(root.GetProperty("kv_bytes").GetInt64() > 0, line);
        Assert.True(root.GetProperty("ttft_ms").GetDouble() > 0, line);
        Assert.True(code == 0, $"demo exited {code}:\n{output}");
    }
}
