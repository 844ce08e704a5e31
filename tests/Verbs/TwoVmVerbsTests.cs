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

    [SoftRoceVmFact]
    public void TwoVms_LostPeer_WritesFailWithPeerLostAndTheOtherPeerKeepsWorking()
    {
        var result = Result("lost");
        Assert.Equal("PeerLost", (string?)result["write_to_lost_peer"]);
        Assert.True((bool)result["survivor_ok"]!, $"the surviving peer's memory is wrong: {result.ToJsonString()}");
    }

    [SoftRoceVmFact]
    public void TwoVms_TransferAgentWithVerbsBackend_Moves64MiBChecksumVerified()
    {
        var run = vms.Run ?? throw new InvalidOperationException("the VMs did not run");
        var sent = run.Results(run.LogB).FirstOrDefault(r => r["backend"] is not null);
        var placed = run.Results(run.LogA).FirstOrDefault(r => (string?)r["event"] == "notified");
        Assert.True(sent is not null && placed is not null, $"no transfer-send/transfer-target result (harness exit {run.ExitCode}):\n{run.Report}\n--- initiator ---\n{run.LogB}\n--- target ---\n{run.LogA}");
        Assert.Equal("verbs", (string?)sent!["backend"]);
        Assert.True((bool)sent["checksum_verified"]!, sent.ToJsonString());
        Assert.Equal(64L << 20, (long)placed!["bytes"]!);
        Assert.Equal((string?)sent["source_xxhash3"], (string?)placed["region_xxhash3"]);
    }

    /// <summary>
    /// Both agents hold dma-buf regions (vgem in the VMs): the verbs backend registers each through ibv_reg_dmabuf_mr or,
    /// when Soft-RoCE refuses, through a registered host bounce buffer, says which and why, and the bytes land exactly.
    /// </summary>
    [SoftRoceVmFact]
    public void TwoVms_DmaBufRegions_RegisteredOrStagedWithTheReason_BytesLandChecksumVerified()
    {
        var run = vms.Run ?? throw new InvalidOperationException("the VMs did not run");
        var sent = run.Results(run.LogB).FirstOrDefault(r => (string?)r["mode"] == "dmabuf");
        var placed = run.Results(run.LogA).FirstOrDefault(r => (string?)r["mode"] == "dmabuf");
        Assert.True(sent is not null && placed is not null, $"no verbs-dmabuf-peer result (harness exit {run.ExitCode}):\n{run.Report}\n--- initiator ---\n{run.LogB}\n--- target ---\n{run.LogA}");
        Assert.True((bool)sent!["ok"]!, sent.ToJsonString());
        Assert.Equal("verbs", (string?)sent["backend"]);
        Assert.StartsWith("vgem", (string?)sent["source"]);
        foreach (var side in new[] { sent, placed! })
        {
            var path = (string?)side["path"];
            Assert.True(path is "DmaBuf" or "HostStaged", side.ToJsonString());
            // the fallback always names why: the errno of ibv_reg_dmabuf_mr
            if (path == "HostStaged") Assert.Contains("ibv_reg_dmabuf_mr", (string?)side["reason"]);
        }
        Assert.Equal(32L * 64 * 1024, (long)placed!["bytes"]!);
        Assert.Equal((string?)sent["expected_xxhash128"], (string?)placed["region_xxhash128"]);
    }

    /// <summary>
    /// Grants enforced in the target's NIC (Soft-RoCE in 6.1 has type-2 memory windows): a batch under a window lands
    /// bit-identically with its WRITE_WITH_IMM notification; after the window is revoked (the grant ended) the same
    /// write is refused with AccessDenied and changes nothing.
    /// </summary>
    [SoftRoceVmFact]
    public void TwoVms_WriteAfterItsGrantEnded_IsRefusedByTheNicAndChangesNothing()
    {
        var result = Result("grant");
        Assert.True((bool)result["memory_windows"]!, $"rxe should have type-2 memory windows: {result.ToJsonString()}");
        Assert.True((bool)result["window_batch_identical"]!, $"the batch under a window did not land exactly: {result.ToJsonString()}");
        Assert.True((bool)result["window_batch_immediate_ok"]!, $"the batch's immediate notification is wrong or missing: {result.ToJsonString()}");
        Assert.Equal("AccessDenied", (string?)result["write_after_revoke"]);
        Assert.True((bool)result["unchanged_after_revoke"]!, $"a write after the window was revoked changed the target: {result.ToJsonString()}");
    }

    /// <summary>Two windows on one queue pair (two requests' blocks): a write with the first's key into the second's blocks is refused and changes nothing.</summary>
    [SoftRoceVmFact]
    public void TwoVms_WriteIntoBlocksGrantedToAnotherRequest_IsRefusedByTheNicAndChangesNothing()
    {
        var result = Result("grant");
        Assert.Equal("AccessDenied", (string?)result["write_into_other_grant"]);
        Assert.True((bool)result["unchanged_after_other_grant"]!, $"the other grant's blocks changed: {result.ToJsonString()}");
    }

    /// <summary>
    /// Grants between two agents as the daemon uses them: a batch under a grant goes through its memory windows (no
    /// proceed); after the target released the grant, the initiator's write with the window it still holds is refused by
    /// the target's NIC (AccessDenied); a write under one grant into another grant's blocks is refused before sending;
    /// the target's region holds exactly the accepted batches.
    /// </summary>
    [SoftRoceVmFact]
    public void TwoVms_AgentsWithGrantWindows_LateAndForeignWritesRefused_TargetExact()
    {
        var result = Result("agent-grant");
        Assert.True((bool)result["grant_windows"]!, result.ToJsonString());
        Assert.Equal("verbs", (string?)result["backend"]);
        Assert.Equal("succeeded", (string?)result["batch_under_grant"]);
        Assert.Equal("AccessDenied", (string?)result["write_after_release"]);
        Assert.Equal("AccessDenied", (string?)result["write_into_other_grant"]);
        Assert.Equal("succeeded", (string?)result["final_batch"]);
        Assert.True((bool)result["target_as_expected"]!, $"the target's region differs from the accepted batches: {result.ToJsonString()}");
    }

    /// <summary>
    /// The fallback of a device without memory windows (forced with VerbsOptions.MemoryWindows = false): the backend
    /// says so in its capabilities and its log, and the same grant sequence holds through per-batch validation.
    /// </summary>
    [SoftRoceVmFact]
    public void TwoVms_WithoutMemoryWindows_GrantsFallBackToPerBatchValidation_LoggedAndEnforced()
    {
        var result = Result("agent-grant-fallback");
        Assert.False((bool)result["grant_windows"]!, result.ToJsonString());
        Assert.Equal("succeeded", (string?)result["batch_under_grant"]);
        Assert.Equal("AccessDenied", (string?)result["write_after_release"]);
        Assert.Equal("AccessDenied", (string?)result["write_into_other_grant"]);
        Assert.True((bool)result["target_as_expected"]!, $"the target's region differs from the accepted batches: {result.ToJsonString()}");
        Assert.Contains("grants fall back to per-batch validation", vms.Run!.LogB);
    }

    private JsonObject Result(string mode)
    {
        var run = vms.Run ?? throw new InvalidOperationException("the VMs did not run");
        var result = run.Results(run.LogB).FirstOrDefault(r => (string?)r["mode"] == mode);
        Assert.True(result is not null, $"no '{mode}' result from the initiator VM (harness exit {run.ExitCode}):\n{run.Report}\n--- initiator ---\n{run.LogB}\n--- target ---\n{run.LogA}");
        return result!;
    }
}
