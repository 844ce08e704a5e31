using System.Diagnostics;
using System.Security.Cryptography;
using PdRdma.Daemon.Client;
using PdRdma.Transport;
using PdRdma.Hosting.Network;

namespace PdRdma.Tests.Daemon;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DaemonLifecycleTests
{
    [Fact]
    public async Task SigtermStopsCleanlyTellsTheEngineAndRemovesTheSocket()
    {
        var folder = TestPaths.Scratch("term");
        using var daemon = await DaemonProcess.StartAsync(folder, "node-term", TestPaths.SecretFile(folder));
        var layout = new KvLayout(1, 1, 4, 4, KvDType.Float32, blocks: 4);
        using var pool = HostRegion.Create("pool", layout.TotalBytes, folder);
        await using var engine = await DaemonClient.ConnectAsync(daemon.Socket, CancellationToken.None);
        await engine.RegisterPoolAsync("pool", pool, layout, CancellationToken.None);
        Assert.Single((await engine.StatusAsync(CancellationToken.None)).Pools);

        var clock = Stopwatch.StartNew();
        using (var term = Process.Start("kill", ["-TERM", daemon.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term!.WaitForExitAsync();
        await engine.Closed.WaitAsync(TimeSpan.FromSeconds(15)); // the engine learns at once, it does not hang
        for (var i = 0; i < 150 && !daemon.Process.HasExited; i++) await Task.Delay(100);
        Assert.True(daemon.Process.HasExited, "daemon still running 15 s after SIGTERM");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
        Assert.False(File.Exists(daemon.Socket));
        Assert.Contains("stopping node node-term", daemon.Process.Tail(50));
        var error = await Assert.ThrowsAsync<TransferException>(() => engine.StatusAsync(CancellationToken.None));
        Assert.Equal(TransferErrorCode.PeerLost, error.Code);
    }

    [Fact]
    public async Task ASecondDaemonOnTheSameSocketIsRefused()
    {
        var folder = TestPaths.Scratch("twice");
        var secret = TestPaths.SecretFile(folder, RandomNumberGenerator.GetBytes(32));
        using var first = await DaemonProcess.StartAsync(folder, "node-one", secret);
        var (code, output) = await TestPaths.RunCliAsync(TimeSpan.FromSeconds(60), "daemon", "--node-id", "node-two", "--socket", first.Socket, "--group", "",
            "--peer-listen", $"127.0.0.1:{FreePorts.One()}", "--http-listen", $"127.0.0.1:{FreePorts.One()}", "--secret-file", secret);
        Assert.Equal(1, code);
        Assert.Contains("pdrdmad: cannot start: another daemon is serving", output);
        Assert.False(first.Process.HasExited);
    }
}
