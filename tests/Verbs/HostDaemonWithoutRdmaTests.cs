using System.Text.Json;
using PdRdma.Tests.Daemon;
using PdRdma.Hosting.Network;

namespace PdRdma.Tests.Verbs;

/// <summary>pdrdmad configured for verbs on a host without an RDMA device: refuses to start naming the fix, or falls back where allowed and says so.</summary>
[Trait("Category", "Verbs")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HostDaemonWithoutRdmaTests
{
    [NoRdmaDeviceFact]
    public async Task Host_DaemonWithBackendVerbs_FailsAtStartWithDeviceUnavailableAndTheFix()
    {
        var folder = TestPathsAccess.Scratch("verbs-daemon");
        var secret = TestPaths.SecretFile(folder);
        var (code, output) = await TestPathsAccess.RunCliAsync(TimeSpan.FromSeconds(60), ["daemon", "--node-id", "pdv-n1", "--socket", Path.Combine(folder, "d.sock"), "--group", "",
            "--peer-listen", $"127.0.0.1:{FreePorts.One()}", "--http-listen", $"127.0.0.1:{FreePorts.One()}", "--secret-file", secret, "--backend", "verbs"]);
        Assert.True(code == 1, $"daemon exited {code}, expected 1:\n{output}");
        Assert.Contains("DeviceUnavailable", output);
        Assert.Contains("rdma link add rxe0 type rxe netdev", output);
        Assert.Contains("AllowFallback", output);
    }

    [NoRdmaDeviceFact]
    public async Task Host_DaemonWithBackendVerbsAndAllowFallback_StartsAndSaysItFallsBack()
    {
        var folder = TestPathsAccess.Scratch("verbs-daemon-fallback");
        var secret = TestPaths.SecretFile(folder);
        using var daemon = await DaemonProcess.StartAsync(folder, "pdv-n2", secret, extra: ["--backend", "verbs", "--allow-fallback", "true"]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var health = JsonDocument.Parse(await http.GetStringAsync(daemon.Health));
        Assert.Contains("falling back", health.RootElement.GetProperty("backend").GetString());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!daemon.Process.Tail(50).Contains("AllowFallback is on", StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Contains("no RDMA device", daemon.Process.Tail(50)); // the warning gives the reason
    }
}
