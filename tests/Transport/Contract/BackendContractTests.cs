using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Backends;

namespace PdRdma.Tests.Transport.Contract;

/// <summary>
/// What every backend must do, run against each one by a derived class (tcp, shm and verbs; the verbs class needs an RDMA
/// device, so on a host without one it is skipped and tests/Verbs/VerbsContractInVmTests runs it inside a Soft-RoCE VM). Both agents are in this process but talk over real sockets and real shared memory; each agent is given only
/// the backend under test, so the automatic choice must pick it.
/// </summary>
public abstract class BackendContractTests
{
    /// <summary>A fresh backend instance (one per agent).</summary>
    protected abstract ITransferBackend CreateBackend();

    protected abstract string ExpectedName { get; }

    /// <summary>Where the target agent listens: loopback, unless the backend needs its device's address.</summary>
    protected virtual System.Net.IPAddress ListenAddress => System.Net.IPAddress.Loopback;

    private Task<AgentPair> StartAsync(long bytes = 8 << 20, Func<TransferAgentOptions, TransferAgentOptions>? target = null, Func<TransferAgentOptions, TransferAgentOptions>? initiator = null) =>
        AgentPair.StartAsync(() => [CreateBackend()], bytes, target, initiator, ListenAddress);

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [ContractFact]
    public async Task ConnectChoosesTheBackendAndSaysWhy()
    {
        await using var pair = await StartAsync();
        await using var connection = await pair.ConnectAsync();
        Assert.Equal(ExpectedName, connection.Backend);
        Assert.False(string.IsNullOrWhiteSpace(connection.BackendReason));
        var kv = Assert.Single(connection.RemoteRegions);
        Assert.Equal(("kv", pair.TargetRegion.Length, MemoryKind.Host), (kv.RegionId, kv.Length, kv.Kind));
        Assert.Equal(pair.Target.NodeId, connection.PeerNodeId);
    }

    [ContractFact]
    public async Task AWholeRegionArrivesBitIdenticalWithChecksum()
    {
        await using var pair = await StartAsync(bytes: 24 << 20);
        await using var connection = await pair.ConnectAsync();
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, pair.SourceRegion.Length)], "all"u8.ToArray(), ChecksumKind.XxHash3), CancellationToken.None).WaitAsync(Limit);
        Assert.Equal(TestBytes.Hash(pair.SourceRegion), TestBytes.Hash(pair.TargetRegion));
        var note = await pair.NextNotificationAsync();
        Assert.Equal(pair.SourceRegion.Length, note.Bytes);
    }

    [ContractFact]
    public async Task ScatteredWritesLandAtTheirOffsetsAndNothingElseChanges()
    {
        await using var pair = await StartAsync();
        var before = TestBytes.Copy(pair.TargetRegion, 0, (int)pair.TargetRegion.Length);
        await using var connection = await pair.ConnectAsync();
        // Adjacent on both sides (coalesced), adjacent on one side only, odd lengths, reversed order.
        WriteOp[] ops =
        [
            new("src", 0, "kv", 4096, 1000),
            new("src", 1000, "kv", 5096, 24),
            new("src", 1024, "kv", 100_000, 77),
            new("src", 5000, "kv", 100_077, 3),
            new("src", 7_000_000, "kv", 12, 4000),
            new("src", 300_000, "kv", 8_000_000, 1 << 16),
        ];
        await connection.WriteAsync(new WriteBatch(ops, Checksum: ChecksumKind.XxHash3), CancellationToken.None).WaitAsync(Limit);
        foreach (var op in ops)
        {
            Array.Copy(TestBytes.Copy(pair.SourceRegion, op.SourceOffset, (int)op.Length), 0, before, op.TargetOffset, op.Length);
        }
        Assert.True(before.AsSpan().SequenceEqual(pair.TargetRegion.AsSpan(0, (int)pair.TargetRegion.Length)));
    }

    [ContractFact]
    public async Task TheNotificationComesOnceAndOnlyAfterEveryByteIsInPlace()
    {
        await using var pair = await StartAsync(bytes: 16 << 20);
        await using var connection = await pair.ConnectAsync();
        var write = connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, pair.SourceRegion.Length)], "ready"u8.ToArray()), CancellationToken.None);
        var note = await pair.NextNotificationAsync();
        // Read the region at notification time, before the initiator's completion is even awaited.
        Assert.Equal(TestBytes.Hash(pair.SourceRegion), TestBytes.Hash(pair.TargetRegion));
        Assert.Equal("ready", System.Text.Encoding.UTF8.GetString(note.Payload));
        Assert.Equal(pair.Initiator.NodeId, note.PeerNodeId);
        await write.WaitAsync(Limit);
        Assert.False(pair.Target.Notifications.TryRead(out _));
    }

    [ContractFact]
    public async Task ManyBatchesInFlightAllCompleteWithTheirOwnNotifications()
    {
        await using var pair = await StartAsync(bytes: 16 << 20, initiator: o => new TransferAgentOptions { NodeId = o.NodeId, Backends = o.Backends, MaxBatchesInFlight = 4 });
        await using var connection = await pair.ConnectAsync();
        const int Batches = 16;
        var slice = pair.SourceRegion.Length / Batches;
        var writes = Enumerable.Range(0, Batches).Select(i => connection.WriteAsync(
            new WriteBatch([new WriteOp("src", i * slice, "kv", i * slice, slice)], BitConverter.GetBytes(i), i % 2 == 0 ? ChecksumKind.XxHash3 : ChecksumKind.None),
            CancellationToken.None)).ToArray();
        await Task.WhenAll(writes).WaitAsync(Limit);
        var seen = new HashSet<int>();
        for (var i = 0; i < Batches; i++) seen.Add(BitConverter.ToInt32((await pair.NextNotificationAsync()).Payload));
        Assert.Equal(Enumerable.Range(0, Batches), seen.Order());
        Assert.Equal(TestBytes.Hash(pair.SourceRegion), TestBytes.Hash(pair.TargetRegion));
    }

    [ContractFact]
    public async Task ABatchWithoutWritesStillNotifies()
    {
        await using var pair = await StartAsync();
        await using var connection = await pair.ConnectAsync();
        await connection.WriteAsync(new WriteBatch([], "ping"u8.ToArray()), CancellationToken.None).WaitAsync(Limit);
        var note = await pair.NextNotificationAsync();
        Assert.Equal((0L, "ping"), (note.Bytes, System.Text.Encoding.UTF8.GetString(note.Payload)));
    }

    [ContractFact]
    public async Task AnUnknownTargetRegionIsRefusedAndTheConnectionKeepsWorking()
    {
        await using var pair = await StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        await using var connection = await pair.ConnectAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(
            new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096), new WriteOp("src", 0, "nope", 0, 16)], "x"u8.ToArray()), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.UnknownRegion, ex.Code);
        Assert.Contains("nope", ex.Message);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096)]), CancellationToken.None).WaitAsync(Limit);
        Assert.Equal(TestBytes.Hash(pair.SourceRegion, 0, 4096), TestBytes.Hash(pair.TargetRegion, 0, 4096));
    }

    [ContractTheory]
    [InlineData(-1L, 16L)]
    [InlineData(0L, 0L)]
    [InlineData(8L << 20, 1L)]
    [InlineData((8L << 20) - 8, 16L)]
    [InlineData(long.MaxValue - 4, 16L)]
    public async Task AWriteOutsideTheTargetRegionRefusesTheWholeBatch(long offset, long length)
    {
        await using var pair = await StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        await using var connection = await pair.ConnectAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(
            new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096), new WriteOp("src", 8192, "kv", offset, length)], "x"u8.ToArray()), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.OutOfBounds, ex.Code);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        Assert.False(pair.Target.Notifications.TryRead(out _));
    }

    [ContractFact]
    public async Task TheAuthorizerCanRefuseAWriteWithAccessDenied()
    {
        var authorizer = new OnlyFirstMegabyte();
        await using var pair = await StartAsync(target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, Backends = o.Backends, Authorizer = authorizer });
        var before = TestBytes.Hash(pair.TargetRegion);
        await using var connection = await pair.ConnectAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(
            new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096), new WriteOp("src", 0, "kv", 2 << 20, 4096)]), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.AccessDenied, ex.Code);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096)]), CancellationToken.None).WaitAsync(Limit);
        Assert.Contains(pair.Initiator.NodeId, authorizer.Peers);
    }

    [ContractFact]
    public async Task AChecksumMismatchIsReportedAndNothingIsNotified()
    {
        HostRegion? source = null;
        await using var pair = await StartAsync(initiator: o => new TransferAgentOptions
        {
            NodeId = o.NodeId,
            Backends = o.Backends,
            // The source changes after its checksum was taken: what lands differs from what was summed.
            AfterChecksumForTests = _ => source!.AsSpan(100, 1)[0] ^= 0xFF,
        });
        source = pair.SourceRegion;
        await using var connection = await pair.ConnectAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(
            new WriteBatch([new WriteOp("src", 0, "kv", 0, 1 << 20)], "x"u8.ToArray(), ChecksumKind.XxHash3), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.ChecksumMismatch, ex.Code);
        await Task.Delay(200);
        Assert.False(pair.Target.Notifications.TryRead(out _));
        Assert.True(connection.IsConnected);
    }

    [ContractFact]
    public async Task PendingAndLaterWritesFailWithPeerLostWhenTheTargetGoesAway()
    {
        await using var pair = await StartAsync();
        await using var connection = await pair.ConnectAsync();
        await pair.Target.DisposeAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096)]), CancellationToken.None).WaitAsync(Limit);
                await Task.Delay(20);
            }
        });
        Assert.Equal(TransferErrorCode.PeerLost, ex.Code);
        Assert.False(connection.IsConnected);
    }

    [ContractFact]
    public async Task AnUnknownSourceRegionFailsLocallyBeforeAnythingIsSent()
    {
        await using var pair = await StartAsync();
        await using var connection = await pair.ConnectAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch([new WriteOp("nope", 0, "kv", 0, 16)]), CancellationToken.None));
        Assert.Equal(TransferErrorCode.UnknownRegion, ex.Code);
        var oob = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch([new WriteOp("src", pair.SourceRegion.Length, "kv", 0, 16)]), CancellationToken.None));
        Assert.Equal(TransferErrorCode.OutOfBounds, oob.Code);
    }

    private sealed class OnlyFirstMegabyte : IWriteAuthorizer
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Peers { get; } = new();

        public bool CanWrite(string peerNodeId, string regionId, long offset, long length)
        {
            Peers.Add(peerNodeId);
            return regionId == "kv" && offset + length <= 1 << 20;
        }
    }
}
