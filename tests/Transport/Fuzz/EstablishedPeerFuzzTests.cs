using MessagePack;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Transport.Fuzz;

/// <summary>
/// A peer that completes the handshake honestly (tcp backend) and then sends seeded random nonsense: batches naming
/// unknown regions or out-of-bounds extents, data and commits for batches never accepted, undecodable bodies. The
/// target must answer every refused batch with a typed error, drop the peer on protocol errors, never place a byte,
/// never crash, and keep serving others.
/// </summary>
public sealed class EstablishedPeerFuzzTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RandomInvalidTrafficAfterTheHandshakePlacesNothing()
    {
        await using var pair = await AgentPair.StartAsync(regionBytes: 1 << 20);
        var before = TestBytes.Hash(pair.TargetRegion);
        var refusedBatches = 0;
        var dropped = 0;
        for (var seed = 0; seed < 40; seed++)
        {
            var random = new Random(seed);
            using var raw = await RawPeer.ConnectAsync(pair.Endpoint);
            await HandshakeAsync(raw, pair.TargetRegion.Length);
            for (var step = 0; step < 20; step++)
            {
                var batchId = random.Next(1, 1000);
                switch (random.Next(5))
                {
                    case 0 or 1:
                        await raw.SendFrameAsync(MessageType.BatchBegin, new BatchBeginMessage { BatchId = batchId, Writes = InvalidWrites(random, pair.TargetRegion.Length), Notification = [1] });
                        var answer = await raw.ReadFrameAsync(Limit);
                        Assert.NotNull(answer);
                        if (answer.Value.Type == MessageType.Error)
                        {
                            var error = MessagePackSerializer.Deserialize<ErrorMessage>(answer.Value.Body, WireFormat.Options);
                            if (error.BatchId == ErrorMessage.Connection) { dropped++; goto next; }
                            Assert.Equal(batchId, error.BatchId);
                            Assert.Contains(error.Code, new[] { TransferErrorCode.UnknownRegion, TransferErrorCode.OutOfBounds });
                            refusedBatches++;
                        }
                        else
                        {
                            Assert.Fail($"seed {seed}: an invalid batch got {answer.Value.Type}");
                        }
                        break;
                    case 2:
                        await raw.SendFrameAsync(MessageType.DataChunk, new DataChunkMessage { BatchId = batchId, WriteIndex = random.Next(-2, 3), OffsetInWrite = random.Next(-10, 10), Length = random.Next(1, 4096) });
                        await raw.SendAsync(RandomBytes(random, 4096));
                        Assert.True(await EndsWithProtocolErrorAsync(raw), $"seed {seed}: data for an unaccepted batch was not a protocol error");
                        dropped++;
                        goto next;
                    case 3:
                        await raw.SendFrameAsync(MessageType.Commit, new CommitMessage { BatchId = batchId, Checksum = (ulong)random.NextInt64() });
                        Assert.True(await EndsWithProtocolErrorAsync(raw), $"seed {seed}: a commit for an unaccepted batch was not a protocol error");
                        dropped++;
                        goto next;
                    default:
                        var types = new[] { MessageType.BatchBegin, MessageType.Hello, MessageType.Setup, MessageType.Proceed, MessageType.Done };
                        await raw.SendAsync(RawPeer.Frame(types[random.Next(types.Length)], RandomBytes(random, random.Next(0, 200))));
                        Assert.True(await EndsWithProtocolErrorAsync(raw), $"seed {seed}: a garbage frame was not a protocol error");
                        dropped++;
                        goto next;
                }
            }
        next:;
        }
        Assert.True(refusedBatches > 10 && dropped > 10, $"refused {refusedBatches}, dropped {dropped}");
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        Assert.False(pair.Target.Notifications.TryRead(out _));
        await pair.AssertServesAnotherPeerAsync();
    }

    private static async Task HandshakeAsync(RawPeer raw, long regionLength)
    {
        await raw.SendFrameAsync(MessageType.Hello, new HelloMessage { Version = WireFormat.ProtocolVersion, NodeId = "fuzzer", HostId = "fuzz-host", Nonce = new byte[32] });
        Assert.Equal(MessageType.Hello, (await raw.ReadFrameAsync(Limit))!.Value.Type);
        await raw.SendFrameAsync(MessageType.Setup, new SetupMessage { Backends = ["tcp"] });
        var welcome = (await raw.ReadFrameAsync(Limit))!.Value;
        Assert.Equal(MessageType.Welcome, welcome.Type);
        Assert.Equal(regionLength, MessagePackSerializer.Deserialize<WelcomeMessage>(welcome.Body, WireFormat.Options).Regions.Single().Length);
        await raw.SendFrameAsync(MessageType.SelectBackend, new SelectBackendMessage { Backend = "tcp", Reason = "fuzz" });
        await raw.SendFrameAsync(MessageType.BackendBlob, new BackendBlobMessage { Data = BitConverter.GetBytes(1 << 20) });
        Assert.Equal(MessageType.BackendBlob, (await raw.ReadFrameAsync(Limit))!.Value.Type);
    }

    private static WireWrite[] InvalidWrites(Random random, long regionLength)
    {
        var writes = new List<WireWrite>();
        for (var i = random.Next(0, 4); i > 0; i--) writes.Add(new WireWrite { Region = "kv", Offset = random.Next(0, 1000), Length = random.Next(1, 1000) });
        writes.Add(random.Next(3) switch
        {
            0 => new WireWrite { Region = "kv" + random.Next(), Offset = 0, Length = 16 },
            1 => new WireWrite { Region = "kv", Offset = regionLength - random.Next(0, 16), Length = 17 + random.Next(100) },
            _ => new WireWrite { Region = "kv", Offset = -1 - random.Next(1000), Length = 16 },
        });
        return writes.OrderBy(_ => random.Next()).ToArray();
    }

    private static async Task<bool> EndsWithProtocolErrorAsync(RawPeer raw)
    {
        var frames = await raw.ReadUntilClosedAsync(Limit);
        return frames.Count > 0 && frames[^1].Type == MessageType.Error
            && MessagePackSerializer.Deserialize<ErrorMessage>(frames[^1].Body, WireFormat.Options) is { Code: TransferErrorCode.Protocol, BatchId: ErrorMessage.Connection };
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
