using MessagePack;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Security;

/// <summary>The grant-window frames (issue 10) fed by a hostile peer: malformed, unasked for, or naming a grant never opened.</summary>
public sealed class OpenGrantHostileTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData("nil")]
    [InlineData("empty")]
    [InlineData("too-long")]
    public async Task AMalformedOpenGrantIsAProtocolErrorAndChangesNothing(string kind)
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            await RawHandshake.TcpAsync(raw);
            await raw.SendFrameAsync(MessageType.OpenGrant, new OpenGrantMessage
            {
                RequestId = 1,
                Grant = kind switch { "nil" => null!, "empty" => "", _ => new string('g', 100_000) },
            });
            var error = ErrorOf(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Protocol, error.Code);
            Assert.True(error.Message.Length < 1000, "the hostile name is not echoed back whole");
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Fact]
    public async Task AnOpenGrantOnABackendWithoutWindowsIsRefusedTypedAndTheLinkStaysUsable()
    {
        await using var pair = await AgentPair.StartAsync();
        using var raw = await RawPeer.ConnectAsync(pair.Endpoint);
        await RawHandshake.TcpAsync(raw);
        for (var id = 1; id <= 2; id++)
        {
            await raw.SendFrameAsync(MessageType.OpenGrant, new OpenGrantMessage { RequestId = id, Grant = "someone-elses" });
            var frame = (await raw.ReadFrameAsync(Limit))!.Value;
            Assert.Equal(MessageType.GrantWindow, frame.Type);
            var reply = MessagePackSerializer.Deserialize<GrantWindowMessage>(frame.Body, WireFormat.Options);
            Assert.Equal(id, reply.RequestId);
            Assert.False(reply.Granted);
            Assert.Equal(TransferErrorCode.Unsupported, reply.Code);
            Assert.Empty(reply.Extents);
            Assert.Null(reply.Blob);
        }
    }

    [Theory]
    [InlineData("windowed-unopened")]
    [InlineData("windowed-without-grant")]
    [InlineData("grant-window-to-target")]
    public async Task WindowFramesOutOfPlaceAreProtocolErrorsAndChangeNothing(string kind)
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            await RawHandshake.TcpAsync(raw);
            if (kind == "grant-window-to-target")
            {
                await raw.SendFrameAsync(MessageType.GrantWindow, new GrantWindowMessage { RequestId = 1, Grant = "g", Granted = true, Extents = [new WireWrite { Region = "kv", Offset = 0, Length = 16 }] });
            }
            else
            {
                await raw.SendFrameAsync(MessageType.BatchBegin, new BatchBeginMessage
                {
                    BatchId = 1,
                    Writes = [new WireWrite { Region = "kv", Offset = 0, Length = 16 }],
                    Grant = kind == "windowed-unopened" ? "never-opened" : null,
                    Windowed = true,
                });
            }
            var error = ErrorOf(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Protocol, error.Code);
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    private static ErrorMessage ErrorOf(List<(MessageType Type, byte[] Body)> frames)
    {
        Assert.NotEmpty(frames);
        Assert.Equal(MessageType.Error, frames[^1].Type);
        return MessagePackSerializer.Deserialize<ErrorMessage>(frames[^1].Body, WireFormat.Options);
    }
}
