using PdRdma.Tests.Security;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Backends.SharedMemory;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Transport.SharedMemory;

/// <summary>
/// The shm channel's trust model (docs/transport.md): a peer of the same user can write past the library's checks, so
/// the target checks every record it reads. A record that lies about its contents gets a typed refusal back and no
/// notification, and the channel keeps serving; a record that lies about its own framing fails the connection cleanly
/// (Protocol on the control link) and the target serves other peers.
/// </summary>
public sealed class HostileRecordTests
{
    private static Func<IReadOnlyList<ITransferBackend>> Shm => () => [new SharedMemoryBackend()];

    [Fact]
    public async Task ARecordOutsideTheRegionIsRefusedWithOutOfBoundsAndTheChannelGoesOn()
    {
        await using var pair = await AgentPair.StartAsync(Shm);
        using var peer = await HostileChannelPeer.ConnectAsync(pair.Endpoint, "kv");
        var refused = await peer.OutcomeAsync(peer.Post(1, [(0, pair.TargetRegion.Length - 10, 64)], "no"u8.ToArray()));
        Assert.Equal(TransferErrorCode.OutOfBounds, refused?.Code);
        Assert.Contains("outside region 'kv'", refused?.Message);
        var unknown = await peer.OutcomeAsync(peer.Post(2, [(0, 0, 64), (7, 0, 64)], "no"u8.ToArray()));
        Assert.Equal(TransferErrorCode.UnknownRegion, unknown?.Code);
        var negative = await peer.OutcomeAsync(peer.Post(3, [(0, -4096, 64)], "no"u8.ToArray()));
        Assert.Equal(TransferErrorCode.OutOfBounds, negative?.Code);
        Assert.False(pair.Target.Notifications.TryRead(out _));
        // the same channel still carries a good record, and its notification is the first one
        Assert.Null(await peer.OutcomeAsync(peer.Post(4, [(0, 0, 64)], "fine"u8.ToArray())));
        Assert.Equal("fine", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
    }

    [Fact]
    public async Task ARecordWhoseCountsLieIsRefusedWithProtocolAndTheChannelGoesOn()
    {
        await using var pair = await AgentPair.StartAsync(Shm);
        using var peer = await HostileChannelPeer.ConnectAsync(pair.Endpoint, "kv");
        var tooMany = await peer.OutcomeAsync(peer.Post(1, [(0, 0, 64)], "no"u8.ToArray(), writeCountLie: 1 << 20));
        Assert.Equal(TransferErrorCode.Protocol, tooMany?.Code);
        var negative = await peer.OutcomeAsync(peer.Post(2, [(0, 0, 64)], writeCountLie: -1));
        Assert.Equal(TransferErrorCode.Protocol, negative?.Code);
        var hugeNote = await peer.OutcomeAsync(peer.Post(3, [], new byte[(64 << 10) + 1]));
        Assert.Equal(TransferErrorCode.Protocol, hugeNote?.Code);
        Assert.False(pair.Target.Notifications.TryRead(out _));
        Assert.Null(await peer.OutcomeAsync(peer.Post(4, [(0, 0, 64)], "fine"u8.ToArray())));
        Assert.Equal("fine", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
    }

    [Fact]
    public async Task ARecordOutsideItsGrantOrUnderAnEndedGrantIsRefusedWithAccessDenied()
    {
        var grants = new TestGrants();
        grants.Grant("req-a", 0, 64 << 10);
        grants.Grant("req-b", 64 << 10, 64 << 10);
        await using var pair = await AgentPair.StartAsync(Shm, target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, Backends = o.Backends, Authorizer = grants });
        using var peer = await HostileChannelPeer.ConnectAsync(pair.Endpoint, "kv");
        Assert.True(peer.Offer.RequiresGrant);
        // no grant named: the authorizer refuses it
        var none = await peer.OutcomeAsync(peer.Post(1, [(0, 0, 4096)], "no"u8.ToArray()));
        Assert.Equal(TransferErrorCode.AccessDenied, none?.Code);
        // a grant slot that was never published, and a made-up generation
        var forged = await peer.OutcomeAsync(peer.Post(2, [(0, 0, 4096)], "no"u8.ToArray(), grantSlot: 3, grantGeneration: 99));
        Assert.Equal(TransferErrorCode.AccessDenied, forged?.Code);
        Assert.Contains("not live", forged?.Message);
        var slotOutside = await peer.OutcomeAsync(peer.Post(3, [(0, 0, 4096)], "no"u8.ToArray(), grantSlot: int.MaxValue, grantGeneration: 1));
        Assert.Equal(TransferErrorCode.AccessDenied, slotOutside?.Code);
        Assert.False(pair.Target.Notifications.TryRead(out _));
    }

    [Fact]
    public async Task ARecordOverTheTargetsBatchLimitsIsRefusedWithPoolFull()
    {
        await using var pair = await AgentPair.StartAsync(Shm, target: o => new TransferAgentOptions
        {
            NodeId = o.NodeId, Listen = o.Listen, Backends = o.Backends, MaxWritesPerBatch = 4, MaxBytesInFlightPerPeer = 1 << 20,
        });
        using var peer = await HostileChannelPeer.ConnectAsync(pair.Endpoint, "kv");
        Assert.Equal(4, peer.Offer.MaxWritesPerBatch);
        var tooMany = await peer.OutcomeAsync(peer.Post(1, Enumerable.Range(0, 5).Select(i => (0, i * 64L, 64L)).ToArray(), "no"u8.ToArray()));
        Assert.Equal(TransferErrorCode.PoolFull, tooMany?.Code);
        var tooBig = await peer.OutcomeAsync(peer.Post(2, [(0, 0, 2 << 20)], "no"u8.ToArray()));
        Assert.Equal(TransferErrorCode.PoolFull, tooBig?.Code);
        Assert.Contains("in flight", tooBig?.Message);
        Assert.False(pair.Target.Notifications.TryRead(out _));
        Assert.Null(await peer.OutcomeAsync(peer.Post(3, [(0, 0, 64)], "fine"u8.ToArray())));
        Assert.Equal("fine", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
    }

    [Fact]
    public async Task ARecordWhoseFramingLiesFailsTheConnectionCleanlyAndTheTargetServesOthers()
    {
        await using var pair = await AgentPair.StartAsync(Shm);
        var before = TestBytes.Hash(pair.TargetRegion);
        using var peer = await HostileChannelPeer.ConnectAsync(pair.Endpoint, "kv");
        // a length that is not a multiple of the record alignment: there is no way to find the next record
        peer.Post(1, [(0, 0, 64)], "no"u8.ToArray(), lengthLie: 100);
        var frame = await peer.Raw.ReadFrameAsync(TimeSpan.FromSeconds(20));
        Assert.NotNull(frame);
        Assert.Equal(MessageType.Error, frame.Value.Type);
        var error = MessagePack.MessagePackSerializer.Deserialize<ErrorMessage>(frame.Value.Body, WireFormat.Options);
        Assert.Equal(TransferErrorCode.Protocol, error.Code);
        Assert.Contains("record of 100 bytes", error.Message);
        Assert.True(peer.TargetClosed);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        Assert.False(pair.Target.Notifications.TryRead(out _));
        await pair.AssertServesAnotherPeerAsync(Shm);
    }

    [Fact]
    public async Task AReplayedTicketFailsTheConnection()
    {
        await using var pair = await AgentPair.StartAsync(Shm);
        using var peer = await HostileChannelPeer.ConnectAsync(pair.Endpoint, "kv");
        Assert.Null(await peer.OutcomeAsync(peer.Post(1, [(0, 0, 64)], "one"u8.ToArray())));
        peer.Post(2, [(0, 0, 64)], "again"u8.ToArray(), ticketLie: 1);
        var frame = await peer.Raw.ReadFrameAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(MessageType.Error, frame?.Type);
        Assert.Equal("one", System.Text.Encoding.UTF8.GetString((await pair.NextNotificationAsync()).Payload));
        Assert.False(pair.Target.Notifications.TryRead(out _));
        await pair.AssertServesAnotherPeerAsync(Shm);
    }
}
