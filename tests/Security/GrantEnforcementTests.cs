using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Backends.SharedMemory;
using PdRdma.Transport.Backends.Tcp;

namespace PdRdma.Tests.Security;

/// <summary>
/// Issues 10 and 11 item 2, for each backend: a write is checked against a live grant (the one its batch names) before
/// a byte is placed and, over tcp, again as each chunk lands. Refused bytes change nothing and the link stays usable.
/// </summary>
public sealed class GrantEnforcementTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static Func<IReadOnlyList<ITransferBackend>> Backend(string name) => name == "tcp" ? () => [new TcpBackend()] : () => [new SharedMemoryBackend()];

    private static Task<AgentPair> StartAsync(string backend, TestGrants grants) => AgentPair.StartAsync(Backend(backend), 8 << 20,
        target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, Backends = o.Backends, Authorizer = grants });

    [Theory]
    [InlineData("tcp")]
    [InlineData("shm")]
    public async Task AWriteAfterItsGrantEndedIsRefusedAndChangesNothing(string backend)
    {
        var grants = new TestGrants();
        grants.Grant("req-a", 0, 1 << 20);
        await using var pair = await StartAsync(backend, grants);
        await using var connection = await pair.ConnectAsync();
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096)], Grant: "req-a"), CancellationToken.None).WaitAsync(Limit);
        grants.End("req-a");
        var before = TestBytes.Hash(pair.TargetRegion);
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch([new WriteOp("src", 8192, "kv", 8192, 4096)], "late"u8.ToArray(), Grant: "req-a"), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.AccessDenied, ex.Code);
        Assert.Contains("req-a", ex.Message);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        Assert.True(connection.IsConnected);
        grants.Grant("req-b", 0, 1 << 20);
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096)], Grant: "req-b"), CancellationToken.None).WaitAsync(Limit);
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("shm")]
    public async Task AWriteToABlockGrantedToAnotherRequestIsRefusedAndChangesNothing(string backend)
    {
        var grants = new TestGrants();
        grants.Grant("req-a", 0, 64 << 10);
        grants.Grant("req-b", 64 << 10, 64 << 10);
        await using var pair = await StartAsync(backend, grants);
        var before = TestBytes.Hash(pair.TargetRegion);
        await using var connection = await pair.ConnectAsync();
        // Same peer, both grants live: request A's batch reaches into request B's block.
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(
            new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096), new WriteOp("src", 0, "kv", 64 << 10, 4096)], "a"u8.ToArray(), Grant: "req-a"), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.AccessDenied, ex.Code);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        // Naming no grant is no way around it.
        var none = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 64 << 10, 4096)]), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.AccessDenied, none.Code);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await Task.Delay(200);
        Assert.False(pair.Target.Notifications.TryRead(out _));
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 64 << 10, 4096)], Grant: "req-b"), CancellationToken.None).WaitAsync(Limit);
        Assert.Equal(TestBytes.Hash(pair.SourceRegion, 0, 4096), TestBytes.Hash(pair.TargetRegion, 64 << 10, 4096));
    }

    [Fact]
    public async Task OverTcpAGrantThatEndsWhileItsBytesAreOnTheWayRefusesTheRestAndTheLinkStaysUsable()
    {
        var grants = new TestGrants();
        grants.Grant("req-a", 0, 8 << 20);
        await using var pair = await StartAsync("tcp", grants);
        await using var connection = await pair.ConnectAsync();
        var tailBefore = TestBytes.Hash(pair.TargetRegion, 4 << 20, 4 << 20);
        // 64 writes of 64 KiB, one chunk each: the begin takes 64 checks, then the grant ends after 8 chunks landed.
        var ops = Enumerable.Range(0, 64).Select(i => new WriteOp("src", i * 128L << 10, "kv", i * 128L << 10, 64 << 10)).ToArray();
        grants.EndsGrant = "req-a";
        grants.EndAfterChecks = grants.Checks + 64 + 8;
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch(ops, "never"u8.ToArray(), Grant: "req-a"), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.AccessDenied, ex.Code);
        Assert.Contains("ended before its bytes landed", ex.Message);
        // Writes 8.. (from 1 MiB on) were refused where they would have landed: everything past 4 MiB is as it was.
        Assert.Equal(tailBefore, TestBytes.Hash(pair.TargetRegion, 4 << 20, 4 << 20));
        await Task.Delay(200);
        Assert.False(pair.Target.Notifications.TryRead(out _));
        Assert.True(connection.IsConnected);
        grants.EndAfterChecks = -1;
        grants.Grant("req-c", 0, 8 << 20);
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 1 << 20)], "ok"u8.ToArray(), Grant: "req-c"), CancellationToken.None).WaitAsync(Limit);
        Assert.Equal("ok", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
    }
}
