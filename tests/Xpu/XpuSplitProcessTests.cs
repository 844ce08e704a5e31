using System.Diagnostics;
using System.Text.Json;

namespace PdRdma.Tests.Xpu;

/// <summary>
/// The same-XPU split across two real processes (pdrdma xpu-check and its xpu-ipc-peer) on the test driver: the
/// pool owner shares by IPC handle, dma-buf or host staging (chosen, or forced, or fallen back to when the driver
/// refuses), the other process sees the owner's bytes and the owner verifies what it wrote. And without a driver,
/// every entry point fails with DeviceUnavailable naming what to install.
/// </summary>
public sealed class XpuSplitProcessTests
{
    [LevelZeroTheory]
    [InlineData("", "", "SameDeviceIpc")]
    [InlineData("dmabuf", "", "DmaBuf")]
    [InlineData("staged", "", "HostStaged")]
    [InlineData("", "ipc", "DmaBuf")]
    [InlineData("", "ipc,external", "HostStaged")]
    public async Task TwoProcessesShareThePoolByTheChosenPath(string paths, string disabled, string expectedPath)
    {
        var args = new List<string> { "xpu-check", "2", "--driver", TestDriver.Path };
        if (paths.Length > 0) args.AddRange(["--paths", paths]);
        var (exit, stdout, stderr) = await RunAsync(args, disabled.Length > 0 ? new() { ["ZE_TEST_DRIVER_DISABLE"] = disabled } : []);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.True(exit == 0, $"exit {exit}: {stdout} {stderr}");
        Assert.Equal(expectedPath, root.GetProperty("share_path").GetString());
        Assert.True(root.GetProperty("peer_saw_owner_bytes").GetBoolean());
        Assert.True(root.GetProperty("peer_verified").GetBoolean());
        Assert.True(root.GetProperty("roundtrip_identical").GetBoolean());
    }

    [LevelZeroFact]
    public async Task WithoutADriverXpuCheckSaysWhatToInstall()
    {
        var (exit, stdout, _) = await RunAsync(["xpu-check", "2"], []);
        Assert.Equal(3, exit);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("DeviceUnavailable", json.RootElement.GetProperty("code").GetString());
        Assert.Contains("libze-intel-gpu1", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [LevelZeroFact]
    public async Task WithoutADriverThePeerAndTheCrossVendorCheckFailTyped()
    {
        var (exit, _, stderr) = await RunAsync(["xpu-ipc-peer", "2", "--socket", "/nonexistent/s"], []);
        Assert.Equal(1, exit);
        Assert.Contains("DeviceUnavailable", stderr, StringComparison.Ordinal);
        Assert.Contains("libze-intel-gpu1", stderr, StringComparison.Ordinal);

        (exit, var stdout, _) = await RunAsync(["xpu-cuda-check", "2"], []);
        Assert.Equal(3, exit);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal("DeviceUnavailable", json.RootElement.GetProperty("code").GetString());
    }

    [LevelZeroFact]
    public async Task ADriverPathThatDoesNotExistIsRefused()
    {
        var (exit, _, stderr) = await RunAsync(["xpu-check", "2", "--driver", "/nonexistent/libze_fake.so"], []);
        Assert.NotEqual(0, exit);
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(IEnumerable<string> args, Dictionary<string, string> environment)
    {
        var info = PdRdma.Hosting.Processes.PdrdmaProgram.Cli.StartInfo([.. args]);
        info.RedirectStandardOutput = info.RedirectStandardError = true;
        info.Environment.Remove("ZE_ENABLE_ALT_DRIVERS");
        foreach (var (k, v) in environment) info.Environment[k] = v;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"pdrdma {string.Join(' ', args)} did not finish in 120 s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
