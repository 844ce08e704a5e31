using System.Buffers.Binary;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Transport.Faults;

/// <summary>
/// Every bad input a target can receive: each test checks the typed error, that the target's region is byte-for-byte
/// what it was, and that the same target then serves another peer.
/// </summary>
public sealed class BadInputTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task UnknownRegion()
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        await using var connection = await pair.ConnectAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 64), new WriteOp("src", 0, "missing", 0, 64)], "n"u8.ToArray()), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.UnknownRegion, ex.Code);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task OutOfBounds()
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        await using var connection = await pair.ConnectAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 64), new WriteOp("src", 0, "kv", pair.TargetRegion.Length - 10, 64)], "n"u8.ToArray()), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.OutOfBounds, ex.Code);
        Assert.Contains("outside region 'kv'", ex.Message);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task TruncatedFrame()
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            var frame = new byte[4 + 10];
            BinaryPrimitives.WriteUInt32LittleEndian(frame, 100);
            frame[4] = (byte)MessageType.Hello;
            await raw.SendAsync(frame);
            raw.ShutdownSend();
            var error = SingleError(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Protocol, error.Code);
            Assert.Contains("truncated", error.Message);
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task OversizedFrame()
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            var frame = new byte[5 + 1000];
            BinaryPrimitives.WriteUInt32LittleEndian(frame, 64u << 20);
            frame[4] = (byte)MessageType.Hello;
            await raw.SendAsync(frame);
            var error = SingleError(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Protocol, error.Code);
            Assert.Contains("oversized", error.Message);
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task GarbageBytesInAWellFormedFrame(int seed)
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            var garbage = new byte[300];
            new Random(seed).NextBytes(garbage);
            garbage[0] = (byte)MessageType.Hello;
            await raw.SendAsync(RawPeer.Frame(MessageType.Hello, garbage[1..]));
            var error = SingleError(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Protocol, error.Code);
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task RandomGarbageStream()
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            var garbage = new byte[64 << 10];
            new Random(42).NextBytes(garbage);
            await raw.SendAsync(garbage);
            var error = SingleError(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Protocol, error.Code);
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task UnknownFrameTypeAndOutOfOrderFrames()
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            // A data chunk before any handshake: must not reach a region.
            await raw.SendFrameAsync(MessageType.DataChunk, new DataChunkMessage { BatchId = 1, WriteIndex = 0, OffsetInWrite = 0, Length = 64 });
            await raw.SendAsync(new byte[64]);
            var error = SingleError(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Protocol, error.Code);
        }
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            await raw.SendAsync(RawPeer.Frame((MessageType)200, [1, 2, 3]));
            Assert.Equal(TransferErrorCode.Protocol, SingleError(await raw.ReadUntilClosedAsync(Limit)).Code);
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task ASilentPeerIsDroppedAfterTheHandshakeTimeout()
    {
        await using var pair = await AgentPair.StartAsync(target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, HandshakeTimeout = TimeSpan.FromSeconds(1) });
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            var error = SingleError(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Timeout, error.Code);
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task WrongVersion()
    {
        await using var pair = await AgentPair.StartAsync(initiator: o => new TransferAgentOptions { NodeId = o.NodeId, ProtocolVersionOverride = 99 });
        var before = TestBytes.Hash(pair.TargetRegion);
        var ex = await Assert.ThrowsAsync<TransferException>(() => pair.ConnectAsync().WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.VersionMismatch, ex.Code);
        Assert.Contains("version 99", ex.Message);
        Assert.Contains($"version {WireFormat.ProtocolVersion}", ex.Message);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task WrongVersionFromTheTargetSide()
    {
        await using var pair = await AgentPair.StartAsync(target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, ProtocolVersionOverride = 7 });
        var ex = await Assert.ThrowsAsync<TransferException>(() => pair.ConnectAsync().WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.VersionMismatch, ex.Code);
        Assert.Contains("version 7", ex.Message);
        Assert.Contains($"version {WireFormat.ProtocolVersion}", ex.Message);
    }

    [Fact]
    public async Task LayoutMismatch()
    {
        var layout = new KvLayout(layers: 2, kvHeads: 4, headDim: 16, tokensPerBlock: 16, KvDType.Float32, blocks: 8);
        await using var pair = await AgentPair.StartAsync(
            target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, Layout = layout },
            initiator: o => new TransferAgentOptions { NodeId = o.NodeId, Layout = new KvLayout(2, 8, 16, 16, KvDType.Float32, blocks: 8) });
        var before = TestBytes.Hash(pair.TargetRegion);
        var ex = await Assert.ThrowsAsync<TransferException>(() => pair.ConnectAsync().WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.LayoutMismatch, ex.Code);
        Assert.Contains("KvHeads", ex.Message);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task Unauthenticated()
    {
        var secret = "cluster secret one, 32 bytes long!"u8.ToArray();
        await using var pair = await AgentPair.StartAsync(
            target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, ClusterSecret = secret },
            initiator: o => new TransferAgentOptions { NodeId = o.NodeId, ClusterSecret = "another secret, also 32 bytes long"u8.ToArray() });
        var before = TestBytes.Hash(pair.TargetRegion);
        var wrong = await Assert.ThrowsAsync<TransferException>(() => pair.ConnectAsync().WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.Unauthenticated, wrong.Code);

        await using (var noSecret = new TransferAgent(new TransferAgentOptions { NodeId = "no-secret" }))
        {
            var missing = await Assert.ThrowsAsync<TransferException>(() => noSecret.ConnectAsync(pair.Endpoint, CancellationToken.None).WaitAsync(Limit));
            Assert.Equal(TransferErrorCode.Unauthenticated, missing.Code);
        }

        // A peer that answers the challenge wrongly learns nothing: no welcome, so no region descriptors.
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            await raw.SendFrameAsync(MessageType.Hello, new HelloMessage { Version = WireFormat.ProtocolVersion, NodeId = "mallory", HostId = "h", Nonce = new byte[32], AuthRequired = true });
            await raw.SendFrameAsync(MessageType.Setup, new SetupMessage { Proof = new byte[32], Backends = ["tcp"] });
            await raw.SendFrameAsync(MessageType.BatchBegin, new BatchBeginMessage { BatchId = 1, Writes = [new WireWrite { Region = "kv", Offset = 0, Length = 64 }] });
            await raw.SendFrameAsync(MessageType.DataChunk, new DataChunkMessage { BatchId = 1, WriteIndex = 0, OffsetInWrite = 0, Length = 64 });
            await raw.SendAsync(new byte[64]);
            var frames = await raw.ReadUntilClosedAsync(Limit);
            Assert.DoesNotContain(frames, f => f.Type is MessageType.Welcome or MessageType.Proceed);
            var error = ErrorMessageOf(frames.Last());
            Assert.Equal(TransferErrorCode.Unauthenticated, error.Code);
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync(secret: secret);
    }

    [Fact]
    public async Task ChecksumMismatch()
    {
        HostRegion? source = null;
        var corrupt = true;
        await using var pair = await AgentPair.StartAsync(initiator: o => new TransferAgentOptions
        {
            NodeId = o.NodeId,
            Backend = BackendChoice.Tcp,
            AfterChecksumForTests = _ => { if (corrupt) source!.AsSpan(5, 1)[0] ^= 0x01; },
        });
        source = pair.SourceRegion;
        var tailBefore = TestBytes.Hash(pair.TargetRegion, 1 << 20);
        await using var connection = await pair.ConnectAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 1 << 20)], "c"u8.ToArray(), ChecksumKind.XxHash3), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.ChecksumMismatch, ex.Code);
        // One-sided writes place bytes before they can be summed: the batch's own extent is undefined, the rest untouched.
        Assert.Equal(tailBefore, TestBytes.Hash(pair.TargetRegion, 1 << 20));
        await Task.Delay(200);
        Assert.False(pair.Target.Notifications.TryRead(out _));
        corrupt = false;
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 1 << 20)], "ok"u8.ToArray(), ChecksumKind.XxHash3), CancellationToken.None).WaitAsync(Limit);
        Assert.Equal("ok", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
        await pair.AssertServesAnotherPeerAsync();
    }

    private static ErrorMessage SingleError(List<(MessageType Type, byte[] Body)> frames) => ErrorMessageOf(Assert.Single(frames));

    private static ErrorMessage ErrorMessageOf((MessageType Type, byte[] Body) frame)
    {
        Assert.Equal(MessageType.Error, frame.Type);
        var error = MessagePack.MessagePackSerializer.Deserialize<ErrorMessage>(frame.Body, WireFormat.Options);
        Assert.Equal(ErrorMessage.Connection, error.BatchId);
        return error;
    }
}
