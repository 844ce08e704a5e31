using System.Text.Json.Nodes;

namespace PdRdma.Tests.Verbs;

/// <summary>The verbs backend between two hosts: two QEMU VMs with Soft-RoCE joined by a virtual NIC.</summary>
[Trait("Category", "Verbs")]
public sealed class TwoVmVerbsTests(TwoVmFixture vms) : IClassFixture<TwoVmFixture>
{
    [SoftRoceVmFact]
    public void TwoVms_KvBatchOf64MiB_ArrivesBitIdenticalWithItsNotification()
    {
        var result = Result("kv");
        Assert.True((bool)result["identical"]!, $"target region differs from the expected image: {result.ToJsonString()}");
        Assert.True((bool)result["notification_ok"]!, $"notification wrong or missing: {result.ToJsonString()}");
        Assert.Equal(64L << 20, (long)result["bytes"]!);
        Assert.Equal(16 * 2 * 64, (int)result["writes"]!);
    }

    [SoftRoceVmFact]
    public void TwoVms_WriteOutsideTheGrantedWindow_FailsWithAccessDeniedAndChangesNothing()
    {
        var result = Result("oob");
        Assert.Equal("AccessDenied", (string?)result["out_of_window_write"]);
        Assert.True((bool)result["target_unchanged"]!, $"the target's memory changed: {result.ToJsonString()}");
        Assert.Equal("PeerLost", (string?)result["write_after_failure"]); // the queue pair was torn down
    }

    private JsonObject Result(string mode)
    {
        var run = vms.Run ?? throw new InvalidOperationException("the VMs did not run");
        var result = run.Results(run.LogB).FirstOrDefault(r => (string?)r["mode"] == mode);
        Assert.True(result is not null, $"no '{mode}' result from the initiator VM (harness exit {run.ExitCode}):\n{run.Report}\n--- initiator ---\n{run.LogB}\n--- target ---\n{run.LogA}");
        return result!;
    }
}
