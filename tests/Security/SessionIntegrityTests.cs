using System.Security.Cryptography;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Security;

/// <summary>
/// Issue 11 item 1: a relay on the path that holds no secret, after a real handshake between two agents that share
/// one, injects, alters or replays a frame. The target must refuse it, end the session, place nothing and notify
/// nothing; the initiator's write must fail (it never sees success for bytes that did not land as sent).
/// Frames the initiator sends over tcp: 0 hello, 1 setup, 2 backend choice, 3 tcp setup blob, 4 the first batch.
/// </summary>
public sealed class SessionIntegrityTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);

    private static Task<AgentPair> StartAsync() => AgentPair.StartAsync(
        regionBytes: 1 << 20,
        target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, ClusterSecret = Secret },
        initiator: o => new TransferAgentOptions { NodeId = o.NodeId, ClusterSecret = Secret, Backend = BackendChoice.Tcp });

    private static async Task AssertRefusedAsync(AgentPair pair, RelayProxy relay)
    {
        var before = TestBytes.Hash(pair.TargetRegion);
        var error = await Assert.ThrowsAnyAsync<TransferException>(async () =>
        {
            await using var connection = await pair.Initiator.ConnectAsync(relay.Endpoint, CancellationToken.None).WaitAsync(Limit);
            Assert.Equal("tcp", connection.Backend);
            await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 64 << 10)], "landed"u8.ToArray()), CancellationToken.None).WaitAsync(Limit);
        });
        Assert.Contains(error.Code, new[] { TransferErrorCode.Unauthenticated, TransferErrorCode.PeerLost });
        await Task.Delay(300);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        Assert.False(pair.Target.Notifications.TryRead(out _));
        await pair.AssertServesAnotherPeerAsync(secret: Secret);
    }

    [Fact]
    public async Task AnHonestRelayChangesNothing()
    {
        await using var pair = await StartAsync();
        await using var relay = new RelayProxy(pair.Endpoint, 5, (_, frame) => [frame]);
        await using var connection = await pair.Initiator.ConnectAsync(relay.Endpoint, CancellationToken.None).WaitAsync(Limit);
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 64 << 10)], "landed"u8.ToArray()), CancellationToken.None).WaitAsync(Limit);
        Assert.Equal(TestBytes.Hash(pair.SourceRegion, 0, 64 << 10), TestBytes.Hash(pair.TargetRegion, 0, 64 << 10));
        Assert.Equal("landed", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
    }

    [Fact]
    public async Task AFrameInjectedAfterTheHandshakeIsRefused()
    {
        await using var pair = await StartAsync();
        // A batch of the relay's own, with its own bytes, framed as a peer would but with a MAC it cannot compute.
        var forged = MessagePack.MessagePackSerializer.Serialize(new BatchBeginMessage { BatchId = 999, Writes = [new WireWrite { Region = "kv", Offset = 0, Length = 16 }], Notification = [1] }, WireFormat.Options);
        var injected = RawPeer.Frame(MessageType.BatchBegin, [.. forged, .. RandomNumberGenerator.GetBytes(16)]);
        await using var relay = new RelayProxy(pair.Endpoint, 5, (index, frame) => index == 4 ? [injected, frame] : [frame]);
        await AssertRefusedAsync(pair, relay);
    }

    [Fact]
    public async Task AnAlteredFrameIsRefused()
    {
        await using var pair = await StartAsync();
        await using var relay = new RelayProxy(pair.Endpoint, 5, (index, frame) =>
        {
            if (index != 4) return [frame];
            var altered = frame.ToArray();
            altered[8] ^= 0x01; // a byte of the batch's body: its id or its first write
            return [altered];
        });
        await AssertRefusedAsync(pair, relay);
    }

    [Fact]
    public async Task AnAlteredDataPayloadIsRefusedBeforeAnyOfItIsPlaced()
    {
        await using var pair = await StartAsync();
        // Frame 5 is the batch's data run header; the byte after it is the first byte of the payload.
        await using var relay = new RelayProxy(pair.Endpoint, 6, (_, frame) => [frame]) { FlipFirstRawByte = true };
        await AssertRefusedAsync(pair, relay);
    }

    [Fact]
    public async Task AReplayedFrameIsRefused()
    {
        await using var pair = await StartAsync();
        // The backend choice frame again, byte for byte, where the batch would come.
        byte[]? choice = null;
        await using var relay = new RelayProxy(pair.Endpoint, 5, (index, frame) =>
        {
            if (index == 2) choice = frame;
            return index == 4 ? [choice!, frame] : [frame];
        });
        await AssertRefusedAsync(pair, relay);
    }

    [Fact]
    public async Task AFrameFromAnEarlierSessionIsRefused()
    {
        await using var pair = await StartAsync();
        // Session one goes through an honest relay that records it; session two gets session one's batch frame.
        byte[]? recorded = null;
        var session = 0;
        await using var relay = new RelayProxy(pair.Endpoint, 5, (index, frame) =>
        {
            if (index == 0) session++;
            if (session == 1 && index == 4) recorded = frame;
            return session == 2 && index == 4 ? [recorded!] : [frame];
        });
        await using (var first = await pair.Initiator.ConnectAsync(relay.Endpoint, CancellationToken.None).WaitAsync(Limit))
        {
            await first.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 4096)]), CancellationToken.None).WaitAsync(Limit);
        }
        Assert.NotNull(recorded);
        await AssertRefusedAsync(pair, relay);
    }
}
