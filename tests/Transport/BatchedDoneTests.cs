using MessagePack;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Backends.Tcp;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Transport;

/// <summary>
/// Issue 10, tcp: the target acknowledges completions asynchronously and together. An initiator whose hello says it
/// reads Dones frames gets the batches that finished while more of its frames were waiting in one frame; an initiator
/// that did not say so (an older one) still gets one Done per batch; a malformed list is a protocol error.
/// </summary>
public sealed class BatchedDoneTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);
    private static readonly byte[] Secret = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public async Task TwoBatchesThatArriveTogetherAreAcknowledgedInOneDonesFrame()
    {
        await using var pair = await AgentPair.StartAsync();
        using var raw = await RawPeer.ConnectAsync(pair.Endpoint);
        await HandshakeAsync(raw, batchedDone: true);
        await raw.SendAsync([.. Batch(1, offset: 0, fill: 0x11), .. Batch(2, offset: 4096, fill: 0x22)]);

        var frame = (await raw.ReadFrameAsync(Limit))!.Value;
        Assert.Equal(MessageType.Dones, frame.Type);
        Assert.Equal([1L, 2L], MessagePackSerializer.Deserialize<DoneListMessage>(frame.Body, WireFormat.Options).BatchIds);
        Assert.True(pair.TargetRegion.AsSpan(0, 64).IndexOfAnyExcept((byte)0x11) < 0);
        Assert.True(pair.TargetRegion.AsSpan(4096, 64).IndexOfAnyExcept((byte)0x22) < 0);

        // one batch alone: a plain Done, and the connection goes on serving
        await raw.SendAsync(Batch(3, offset: 8192, fill: 0x33));
        frame = (await raw.ReadFrameAsync(Limit))!.Value;
        Assert.Equal(MessageType.Done, frame.Type);
        Assert.Equal(3L, MessagePackSerializer.Deserialize<BatchIdMessage>(frame.Body, WireFormat.Options).BatchId);
    }

    [Fact]
    public async Task AnInitiatorThatDoesNotAskGetsOneDonePerBatch()
    {
        await using var pair = await AgentPair.StartAsync();
        using var raw = await RawPeer.ConnectAsync(pair.Endpoint);
        await HandshakeAsync(raw, batchedDone: false);
        await raw.SendAsync([.. Batch(1, offset: 0, fill: 0x11), .. Batch(2, offset: 4096, fill: 0x22)]);
        for (var id = 1L; id <= 2; id++)
        {
            var frame = (await raw.ReadFrameAsync(Limit))!.Value;
            Assert.Equal(MessageType.Done, frame.Type);
            Assert.Equal(id, MessagePackSerializer.Deserialize<BatchIdMessage>(frame.Body, WireFormat.Options).BatchId);
        }
    }

    [Fact]
    public async Task ManyAuthenticatedBatchesInFlightOverTcpAllCompleteWithTheirBytesInPlace()
    {
        await using var pair = await AgentPair.StartAsync(() => [new TcpBackend()], 
            target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, Backends = o.Backends, ClusterSecret = Secret },
            initiator: o => new TransferAgentOptions { NodeId = o.NodeId, Backends = o.Backends, ClusterSecret = Secret });
        await using var connection = await pair.ConnectAsync();
        Assert.Equal("tcp", connection.Backend);
        var writes = Enumerable.Range(0, 256).Select(i => connection.WriteAsync(new WriteBatch([new WriteOp("src", i * 4096L, "kv", i * 4096L, 4096)], Notification: [(byte)i]), CancellationToken.None)).ToArray();
        await Task.WhenAll(writes).WaitAsync(Limit);
        Assert.Equal(TestBytes.Hash(pair.SourceRegion, 0, 256 * 4096), TestBytes.Hash(pair.TargetRegion, 0, 256 * 4096));
    }

    public static TheoryData<byte[], string> MalformedLists => new()
    {
        { [0x91, 0xC0], "nil" },
        { MessagePackSerializer.Serialize(new DoneListMessage { BatchIds = new long[DoneListMessage.MaxBatches + 1] }, WireFormat.Options), "at most" },
        { [0x91, 0xA3, 0x61, 0x62, 0x63], "malformed" },
        { [0xDD, 0xFF, 0xFF, 0xFF, 0xFF], "malformed" },
    };

    [Theory]
    [MemberData(nameof(MalformedLists))]
    public void AMalformedDoneListIsAProtocolError(byte[] body, string expected)
    {
        var ex = Assert.Throws<TransferException>(() => new Frame(MessageType.Dones, body).Read<DoneListMessage>());
        Assert.Equal(TransferErrorCode.Protocol, ex.Code);
        Assert.Contains(expected, ex.Message);
    }

    /// <summary>begin + one data run of 64 bytes + commit for [offset, +64) of "kv", as one byte array.</summary>
    private static byte[] Batch(long id, long offset, byte fill) =>
    [
        .. RawPeer.Frame(MessageType.BatchBegin, MessagePackSerializer.Serialize(new BatchBeginMessage { BatchId = id, Writes = [new WireWrite { Region = "kv", Offset = offset, Length = 64 }] }, WireFormat.Options)),
        .. RawPeer.Frame(MessageType.DataRun, MessagePackSerializer.Serialize(new DataRunMessage { BatchId = id, FirstWrite = 0, Count = 1, Length = 64 }, WireFormat.Options)),
        .. Enumerable.Repeat(fill, 64),
        .. RawPeer.Frame(MessageType.Commit, MessagePackSerializer.Serialize(new CommitMessage { BatchId = id }, WireFormat.Options)),
    ];

    private static async Task HandshakeAsync(RawPeer raw, bool batchedDone)
    {
        await raw.SendFrameAsync(MessageType.Hello, new HelloMessage { Version = WireFormat.ProtocolVersion, NodeId = "raw", HostId = "raw-host", Nonce = new byte[32], BatchedDone = batchedDone });
        Assert.Equal(MessageType.Hello, (await raw.ReadFrameAsync(Limit))!.Value.Type);
        await raw.SendFrameAsync(MessageType.Setup, new SetupMessage { Backends = ["tcp"] });
        Assert.Equal(MessageType.Welcome, (await raw.ReadFrameAsync(Limit))!.Value.Type);
        await raw.SendFrameAsync(MessageType.SelectBackend, new SelectBackendMessage { Backend = "tcp", Reason = "raw" });
        await raw.SendFrameAsync(MessageType.BackendBlob, new BackendBlobMessage { Data = BitConverter.GetBytes(1 << 20) });
        Assert.Equal(MessageType.BackendBlob, (await raw.ReadFrameAsync(Limit))!.Value.Type);
    }
}
