using PdRdma.Hosting.Network;
using System.Diagnostics;
using System.Net;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Hosting.Processes;

namespace PdRdma.Tests.Transport.Faults;

/// <summary>A peer process killed (SIGKILL) in the middle of a transfer, on either side.</summary>
public sealed class PeerDeathTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AnInitiatorKilledMidTransferLeavesTheTargetServingAndUnnotified()
    {
        // The target's region is larger than what the child writes: the tail is outside every batch and must not change.
        const long ChildMb = 256;
        await using var pair = await AgentPair.StartAsync(regionBytes: (ChildMb + 1) << 20);
        var tailBefore = TestBytes.Hash(pair.TargetRegion, ChildMb << 20);
        using var child = PdrdmaProgram.Cli.Start(null, "transfer-send", "--peer", pair.Endpoint.ToString(), "--mb", ChildMb.ToString(), "--backend", "tcp", "--repeat", "1000", "--node-id", "doomed");
        var first = await pair.NextNotificationAsync(n => n.PeerNodeId == "doomed", Limit);
        Assert.Equal("run 0", System.Text.Encoding.UTF8.GetString(first.Payload));
        child.Kill();
        await child.WaitForExitAsync(TimeSpan.FromSeconds(10));
        // At most the batch that was already complete when the kill landed may still be notified; then nothing more.
        await Task.Delay(500);
        var late = 0;
        while (pair.Target.Notifications.TryRead(out var note)) if (note.PeerNodeId == "doomed") late++;
        Assert.True(late <= 1, $"{late} notifications after the kill");
        Assert.Equal(tailBefore, TestBytes.Hash(pair.TargetRegion, ChildMb << 20));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Theory]
    [InlineData(BackendChoice.Tcp)]
    [InlineData(BackendChoice.Shm)] // batches wait on the shared-memory channel's completions: the socket closing ends them
    public async Task ATargetKilledMidTransferFailsPendingWritesPromptlyWithPeerLost(BackendChoice backend)
    {
        var port = FreePorts.One();
        using var target = PdrdmaProgram.Cli.Start(null, "transfer-target", "--listen", $"127.0.0.1:{port}", "--region-mb", "256");
        await target.ReadJsonAsync(Limit, "listening");
        using var source = HostRegion.Create($"src-{Guid.NewGuid():N}", 256 << 20);
        TestBytes.Fill(source, 3);
        await using var agent = new TransferAgent(new TransferAgentOptions { NodeId = "survivor", Backend = backend });
        agent.RegisterRegion(source);
        await using var connection = await agent.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), CancellationToken.None);
        Assert.Equal(backend.ToString().ToLowerInvariant(), connection.Backend);
        var batch = new WriteBatch([new WriteOp(source.Id, 0, "kv", 0, source.Length)], "x"u8.ToArray());
        await connection.WriteAsync(batch, CancellationToken.None).WaitAsync(Limit);

        // shm copies at memory speed: more batches, so that some are still in flight when the kill lands
        var writes = Enumerable.Range(0, backend == BackendChoice.Shm ? 32 : 4).Select(_ => connection.WriteAsync(batch, CancellationToken.None)).ToArray();
        await Task.Delay(50);
        target.Kill();
        var killedAt = Stopwatch.GetTimestamp();
        foreach (var write in writes)
        {
            try
            {
                await write.WaitAsync(TimeSpan.FromSeconds(15));
            }
            catch (TransferException ex)
            {
                Assert.Equal(TransferErrorCode.PeerLost, ex.Code);
            }
        }
        Assert.True(writes.Any(w => w.IsFaulted), "no write was in flight when the target died");
        Assert.True(Stopwatch.GetElapsedTime(killedAt) < TimeSpan.FromSeconds(15));
        var after = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(batch, CancellationToken.None));
        Assert.Equal(TransferErrorCode.PeerLost, after.Code);
    }
}
