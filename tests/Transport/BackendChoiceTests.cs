using PdRdma.Transport.Backends.SharedMemory;
using PdRdma.Transport.Backends.Tcp;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;

namespace PdRdma.Tests.Transport;

/// <summary>Which backend a connection gets, and why, from host ids, options and what the peer offers.</summary>
public sealed class BackendChoiceTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task SameHostIdChoosesSharedMemory()
    {
        await using var pair = await AgentPair.StartAsync();
        await using var connection = await pair.ConnectAsync().WaitAsync(Limit);
        Assert.Equal("shm", connection.Backend);
        Assert.Contains("same host id", connection.BackendReason);
    }

    [Fact]
    public async Task DifferentHostIdsChooseTcpAndSayWhy()
    {
        await using var pair = await AgentPair.StartAsync(initiator: o => new TransferAgentOptions { NodeId = o.NodeId, HostId = "elsewhere" });
        await using var connection = await pair.ConnectAsync().WaitAsync(Limit);
        Assert.Equal("tcp", connection.Backend);
        Assert.Contains("host ids differ", connection.BackendReason);
        Assert.Contains("shm: the peer is on another host", connection.BackendReason);
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 1 << 20)], Checksum: ChecksumKind.XxHash3), CancellationToken.None).WaitAsync(Limit);
        Assert.Equal(TestBytes.Hash(pair.SourceRegion, 0, 1 << 20), TestBytes.Hash(pair.TargetRegion, 0, 1 << 20));
    }

    [Fact]
    public async Task ForcingSharedMemoryAcrossHostsIsRefusedUnlessFallbackIsAllowed()
    {
        await using var pair = await AgentPair.StartAsync(initiator: o => new TransferAgentOptions { NodeId = o.NodeId, HostId = "elsewhere", Backend = BackendChoice.Shm });
        var ex = await Assert.ThrowsAsync<TransferException>(() => pair.ConnectAsync().WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.Unsupported, ex.Code);
        Assert.Contains("another host", ex.Message);

        await using var fallback = new TransferAgent(new TransferAgentOptions { NodeId = "fallback", HostId = "elsewhere", Backend = BackendChoice.Shm, AllowFallback = true });
        await using var connection = await fallback.ConnectAsync(pair.Endpoint, CancellationToken.None).WaitAsync(Limit);
        Assert.Equal("tcp", connection.Backend);
        Assert.Contains("fell back", connection.BackendReason);
    }

    [Fact]
    public async Task ForcingABackendNobodyHasIsUnsupportedWithTheReason()
    {
        // An agent built without the verbs backend at all (the default list has it, unavailable without a device).
        await using var pair = await AgentPair.StartAsync(initiator: o => new TransferAgentOptions
        {
            NodeId = o.NodeId,
            Backend = BackendChoice.Verbs,
            Backends = [new SharedMemoryBackend(), new TcpBackend()],
        });
        var ex = await Assert.ThrowsAsync<TransferException>(() => pair.ConnectAsync().WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.Unsupported, ex.Code);
        Assert.Contains("no 'verbs' backend", ex.Message);
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task ForcingTcpOnOneHostUsesTcp()
    {
        await using var pair = await AgentPair.StartAsync(initiator: o => new TransferAgentOptions { NodeId = o.NodeId, Backend = BackendChoice.Tcp });
        await using var connection = await pair.ConnectAsync().WaitAsync(Limit);
        Assert.Equal("tcp", connection.Backend);
        Assert.Contains("forced", connection.BackendReason);
    }

    [Fact]
    public async Task ASecretIsCheckedBothWaysAndNeverSent()
    {
        var secret = "a secret that must not travel, ever"u8.ToArray();
        await using var pair = await AgentPair.StartAsync(
            target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, ClusterSecret = secret },
            initiator: o => new TransferAgentOptions { NodeId = o.NodeId, ClusterSecret = secret });
        await using var connection = await pair.ConnectAsync().WaitAsync(Limit);
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096)]), CancellationToken.None).WaitAsync(Limit);

        using var raw = await RawPeer.ConnectAsync(pair.Endpoint);
        await raw.SendFrameAsync(PdRdma.Transport.Internal.Wire.MessageType.Hello, new PdRdma.Transport.Internal.Wire.HelloMessage
        {
            Version = PdRdma.Transport.Internal.Wire.WireFormat.ProtocolVersion, NodeId = "probe", HostId = "h", Nonce = new byte[32], AuthRequired = true,
        });
        raw.ShutdownSend();
        var frames = await raw.ReadUntilClosedAsync(Limit);
        var all = frames.SelectMany(f => f.Body).ToArray();
        Assert.True(all.AsSpan().IndexOf(secret) < 0);
        Assert.True(all.AsSpan().IndexOf(secret.AsSpan(0, 8)) < 0);
    }
}
