using PdRdma.Tests.Security;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Backends.SharedMemory;

namespace PdRdma.Tests.Transport.SharedMemory;

/// <summary>
/// Issue 10, shm: batches travel on the connection's shared-memory channel, not on the socket. A relay between the
/// two agents counts every frame the initiator sends: after the handshake (and one OpenGrant per grant) it sees none.
/// </summary>
public sealed class SharedMemoryChannelTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static Func<IReadOnlyList<ITransferBackend>> Shm => () => [new SharedMemoryBackend()];

    [Fact]
    public async Task BatchesWithNotificationsAndChecksumsSendNoFrameOnTheSocket()
    {
        await using var pair = await AgentPair.StartAsync(Shm);
        await using var relay = new RelayProxy(pair.Endpoint, 10_000, (_, frame) => [frame]);
        await using var connection = await pair.Initiator.ConnectAsync(relay.Endpoint, CancellationToken.None);
        Assert.Equal("shm", connection.Backend);
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 64)], "warm"u8.ToArray()), CancellationToken.None).WaitAsync(Limit);
        Assert.Equal("warm", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
        var framesAfterHandshake = FramesSent(relay);

        for (var i = 0; i < 100; i++)
        {
            var ops = Enumerable.Range(0, 1 + i % 5).Select(k => new WriteOp("src", (i * 5L + k) * 8192, "kv", (i * 5L + k) * 8192, 4096)).ToArray();
            await connection.WriteAsync(new WriteBatch(ops, System.Text.Encoding.UTF8.GetBytes($"n{i}"), i % 2 == 0 ? ChecksumKind.XxHash3 : ChecksumKind.None), CancellationToken.None).WaitAsync(Limit);
            Assert.Equal($"n{i}", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
        }
        Assert.Equal(framesAfterHandshake, FramesSent(relay));
        for (var i = 0; i < 100 * 5; i += 5)
        {
            Assert.Equal(TestBytes.Hash(pair.SourceRegion, i * 8192L, 4096), TestBytes.Hash(pair.TargetRegion, i * 8192L, 4096));
        }
    }

    [Fact]
    public async Task AFullRingMakesWritersWaitAndEveryBatchStillCompletesInPlace()
    {
        await using var pair = await AgentPair.StartAsync(Shm);
        await using var connection = await pair.ConnectAsync();
        // 16 batches of 20000 separate 64-byte writes: each record is ~480 KB, the ring holds four
        const int Writes = 20_000;
        var batches = Enumerable.Range(0, 16).Select(b => new WriteBatch(
            Enumerable.Range(0, Writes).Select(i => new WriteOp("src", (long)i * 256 + b * 16, "kv", (long)i * 256 + b * 16, 16)).ToArray(),
            System.Text.Encoding.UTF8.GetBytes($"b{b}"))).ToArray();
        await Task.WhenAll(batches.Select(b => connection.WriteAsync(b, CancellationToken.None))).WaitAsync(Limit);
        var notes = new HashSet<string>();
        for (var i = 0; i < 16; i++) notes.Add(System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
        Assert.Equal(16, notes.Count);
        Assert.Equal(TestBytes.Hash(pair.SourceRegion, 0, Writes * 256L), TestBytes.Hash(pair.TargetRegion, 0, Writes * 256L));
    }

    [Fact]
    public async Task AGrantThatEndedIsRefusedFromTheSharedTableWithoutAMessageAndChangesNothing()
    {
        var grants = new TestGrants();
        grants.Grant("req-a", 0, 1 << 20);
        await using var pair = await AgentPair.StartAsync(Shm, target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, Backends = o.Backends, Authorizer = grants });
        await using var relay = new RelayProxy(pair.Endpoint, 10_000, (_, frame) => [frame]);
        await using var connection = await pair.Initiator.ConnectAsync(relay.Endpoint, CancellationToken.None);
        // the first batch opens the grant (one OpenGrant frame), later ones send nothing on the socket
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096)], "a1"u8.ToArray(), Grant: "req-a"), CancellationToken.None).WaitAsync(Limit);
        var frames = FramesSent(relay);
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 4096, "kv", 4096, 4096)], "a2"u8.ToArray(), Grant: "req-a"), CancellationToken.None).WaitAsync(Limit);
        Assert.Equal(frames, FramesSent(relay));
        Assert.Equal("a1", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
        Assert.Equal("a2", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));

        grants.End("req-a");
        var before = TestBytes.Hash(pair.TargetRegion);
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(
            new WriteBatch([new WriteOp("src", 8192, "kv", 8192, 4096)], "late"u8.ToArray(), Grant: "req-a"), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.AccessDenied, ex.Code);
        Assert.Contains("shared grant table", ex.Message);
        // refused by the initiator from the table the target cleared: no frame, no byte, no notification
        Assert.Equal(frames, FramesSent(relay));
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await Task.Delay(200);
        Assert.False(pair.Target.Notifications.TryRead(out _));
        Assert.True(connection.IsConnected);
    }

    private static int FramesSent(RelayProxy relay)
    {
        lock (relay.Seen) return relay.Seen.Sum(c => c.Count);
    }
}
