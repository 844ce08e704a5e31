using System.Diagnostics;
using System.Text.Json.Nodes;

namespace PdRdma.Tests.Verbs;

/// <summary>
/// The same checks as the two-VM tests, run natively where the host has an RDMA device: target and
/// initiator are two processes on this host writing through the device's loopback.
/// </summary>
[Trait("Category", "Verbs")]
public sealed class NativeVerbsTests
{
    [NativeRdmaFact]
    public async Task Native_KvBatchOf64MiB_ArrivesBitIdenticalWithItsNotification()
    {
        var result = await RunPairAsync("kv");
        Assert.True((bool)result["identical"]! && (bool)result["notification_ok"]!, result.ToJsonString());
    }

    [NativeRdmaFact]
    public async Task Native_WriteOutsideTheGrantedWindow_FailsWithAccessDeniedAndChangesNothing()
    {
        var result = await RunPairAsync("oob");
        Assert.Equal("AccessDenied", (string?)result["out_of_window_write"]);
        Assert.True((bool)result["target_unchanged"]!, result.ToJsonString());
    }

    /// <summary>
    /// Grants through type-2 memory windows on this host's device; a device without them must say why (the backend then
    /// falls back to per-batch validation).
    /// </summary>
    [NativeRdmaFact]
    public async Task Native_GrantWindows_EnforcedByTheNic_OrTheFallbackIsNamed()
    {
        var result = await RunPairAsync("grant");
        if (!(bool)result["memory_windows"]!)
        {
            Assert.False(string.IsNullOrEmpty((string?)result["memory_windows_reason"]), result.ToJsonString());
            return;
        }
        Assert.True((bool)result["window_batch_identical"]! && (bool)result["window_batch_immediate_ok"]!, result.ToJsonString());
        Assert.Equal("AccessDenied", (string?)result["write_after_revoke"]);
        Assert.Equal("AccessDenied", (string?)result["write_into_other_grant"]);
        Assert.True((bool)result["unchanged_after_revoke"]! && (bool)result["unchanged_after_other_grant"]!, result.ToJsonString());
    }

    private static async Task<JsonObject> RunPairAsync(string mode)
    {
        const string address = "127.0.0.1"; // the control link; RDMA itself goes through the device's GID
        int port = Random.Shared.Next(47100, 47200);
        using var target = Start($"verbs-peer target --listen {address}:{port} --mode {mode} --timeout 240");
        using var initiator = Start($"verbs-peer initiator --connect {address}:{port} --mode {mode} --timeout 240");
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            string output = await initiator.StandardOutput.ReadToEndAsync(cts.Token);
            string errors = await initiator.StandardError.ReadToEndAsync(cts.Token);
            await initiator.WaitForExitAsync(cts.Token);
            var result = output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l) as JsonObject)
                .FirstOrDefault(r => r is not null && (string?)r["mode"] == mode);
            Assert.True(result is not null, $"no result from the initiator (exit {initiator.ExitCode}):\n{output}\n{errors}");
            return result!;
        }
        finally
        {
            foreach (var process in new[] { initiator, target })
                if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    private static Process Start(string arguments)
    {
        var psi = new ProcessStartInfo("dotnet", $"\"{SoftRoceVms.Cli}\" {arguments}") { RedirectStandardOutput = true, RedirectStandardError = true };
        return Process.Start(psi)!;
    }
}
