using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PdRdma.Transport;
using PdRdma.Transport.Internal;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Transport;

/// <summary>The length-prefixed framing of the control link, over a real loopback socket pair.</summary>
public sealed class FramingTests
{
    private const int MaxFrame = 64 << 10;

    [Fact]
    public async Task FramesRoundTripInOrder()
    {
        var (a, b) = await PairAsync();
        await using var _ = a;
        await using var __ = b;
        for (var i = 0; i < 100; i++) await a.SendAsync(MessageType.Proceed, new BatchIdMessage { BatchId = i }, CancellationToken.None);
        for (var i = 0; i < 100; i++)
        {
            var frame = await b.ReadFrameAsync(CancellationToken.None);
            Assert.Equal(MessageType.Proceed, frame!.Value.Type);
            Assert.Equal(i, frame.Value.Read<BatchIdMessage>().BatchId);
        }
    }

    [Fact]
    public async Task ADataChunkIsPlacedIntoTheRegionItNames()
    {
        var (a, b) = await PairAsync();
        await using var _ = a;
        await using var __ = b;
        using var region = HostRegion.Create($"framing-{Guid.NewGuid():N}", 1 << 20);
        var payload = Enumerable.Range(0, 50_000).Select(i => (byte)i).ToArray();
        await a.SendDataAsync(new DataChunkMessage { BatchId = 1, Length = payload.Length }, payload, CancellationToken.None, flush: true);
        var frame = await b.ReadFrameAsync(CancellationToken.None);
        Assert.Equal(MessageType.DataChunk, frame!.Value.Type);
        await b.ReadPayloadIntoAsync(region, 1000, frame.Value.Read<DataChunkMessage>().Length, CancellationToken.None);
        Assert.True(region.AsSpan(1000, payload.Length).SequenceEqual(payload));
        Assert.Equal(0, region.AsSpan(0, 1000).IndexOfAnyExcept((byte)0) is -1 ? 0 : 1);
    }

    [Fact]
    public async Task AnOversizedLengthIsRefusedBeforeItsBodyArrives()
    {
        var (client, server) = await RawPairAsync();
        await using var _ = server;
        using var __ = client;
        var prefix = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(prefix, MaxFrame + 1);
        await client.SendAsync(prefix);
        var ex = await Assert.ThrowsAsync<TransferException>(() => server.ReadFrameAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(TransferErrorCode.Protocol, ex.Code);
        Assert.Contains("oversized", ex.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0 }, "empty")]
    [InlineData(new byte[] { 10, 0, 0, 0, 1, 2 }, "truncated")]
    [InlineData(new byte[] { 2, 0 }, "truncated")]
    [InlineData(new byte[] { 1, 0, 0, 0, 99 }, "unknown frame type")]
    public async Task MalformedFramesAreProtocolErrors(byte[] bytes, string expected)
    {
        var (client, server) = await RawPairAsync();
        await using var _ = server;
        using var __ = client;
        await client.SendAsync(bytes);
        client.Shutdown(SocketShutdown.Send);
        var ex = await Assert.ThrowsAsync<TransferException>(() => server.ReadFrameAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(TransferErrorCode.Protocol, ex.Code);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public async Task ACleanCloseBetweenFramesIsTheEndNotAnError()
    {
        var (client, server) = await RawPairAsync();
        await using var _ = server;
        client.Shutdown(SocketShutdown.Send);
        Assert.Null(await server.ReadFrameAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        client.Dispose();
    }

    [Fact]
    public async Task APeerThatVanishesMidPayloadIsPeerLost()
    {
        var (client, server) = await RawPairAsync();
        await using var _ = server;
        using var region = HostRegion.Create($"framing-{Guid.NewGuid():N}", 4096);
        await client.SendAsync(new byte[100]);
        client.Dispose();
        var ex = await Assert.ThrowsAsync<TransferException>(() => server.ReadPayloadIntoAsync(region, 0, 1000, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(TransferErrorCode.PeerLost, ex.Code);
    }

    private static async Task<(ControlConnection A, ControlConnection B)> PairAsync()
    {
        var (client, server) = await RawPairAsync();
        return (new ControlConnection(client, MaxFrame), server);
    }

    private static async Task<(Socket Client, ControlConnection Server)> RawPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync();
        return (client, new ControlConnection(server, MaxFrame));
    }
}
