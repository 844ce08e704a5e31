using System.Security.Cryptography;
using MessagePack;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Security;

/// <summary>Issue 11 item 6 and the secret's strength: what a target says before the peer proved anything, nil fields, short secrets.</summary>
public sealed class HandshakeHardeningTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    public void ASecretShorterThan32BytesIsRefusedWithTheFix(int length)
    {
        var ex = Assert.Throws<ArgumentException>(() => new TransferAgent(new TransferAgentOptions { NodeId = "n", ClusterSecret = new byte[length] }));
        Assert.Contains("at least 32", ex.Message);
        Assert.Contains("/dev/urandom", ex.Message);
    }

    [Fact]
    public async Task TheTargetRevealsNothingBeforeTheInitiatorProved()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        await using var pair = await AgentPair.StartAsync(target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, ClusterSecret = secret });
        using var raw = await RawPeer.ConnectAsync(pair.Endpoint);
        await raw.SendFrameAsync(MessageType.Hello, new HelloMessage { Version = WireFormat.ProtocolVersion, NodeId = "mallory", HostId = "h", Nonce = new byte[32], AuthRequired = true });
        var hello = (await raw.ReadFrameAsync(Limit))!.Value;
        Assert.Equal(MessageType.Hello, hello.Type);
        var message = MessagePackSerializer.Deserialize<HelloMessage>(hello.Body, WireFormat.Options);
        Assert.Equal(("", "", null), (message.NodeId, message.HostId, message.Proof));
        Assert.True(message.AuthRequired);
        Assert.DoesNotContain(pair.Target.NodeId, System.Text.Encoding.UTF8.GetString(hello.Body));
        // A wrong proof gets an error and never the welcome (which carries the target's identity, proof and regions).
        await raw.SendFrameAsync(MessageType.Setup, new SetupMessage { Proof = new byte[32], Backends = ["tcp"] });
        var frames = await raw.ReadUntilClosedAsync(Limit);
        Assert.Equal(MessageType.Error, Assert.Single(frames).Type);
        Assert.Equal(TransferErrorCode.Unauthenticated, MessagePackSerializer.Deserialize<ErrorMessage>(frames[0].Body, WireFormat.Options).Code);
    }

    [Theory]
    [InlineData("node")]
    [InlineData("host")]
    [InlineData("nonce")]
    public async Task NilFieldsInAHelloGetATypedErrorFrame(string field)
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            await raw.SendFrameAsync(MessageType.Hello, new HelloMessage
            {
                Version = WireFormat.ProtocolVersion,
                NodeId = field == "node" ? null! : "n",
                HostId = field == "host" ? null! : "h",
                Nonce = field == "nonce" ? null! : new byte[32],
            });
            var error = ErrorOf(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Protocol, error.Code);
            Assert.Contains("nil", error.Message);
        }
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await pair.AssertServesAnotherPeerAsync();
    }

    [Theory]
    [InlineData("writes")]
    [InlineData("write")]
    [InlineData("region")]
    public async Task NilFieldsInABatchBeginGetATypedErrorFrame(string field)
    {
        await using var pair = await AgentPair.StartAsync();
        var before = TestBytes.Hash(pair.TargetRegion);
        using (var raw = await RawPeer.ConnectAsync(pair.Endpoint))
        {
            await RawHandshake.TcpAsync(raw);
            await raw.SendFrameAsync(MessageType.BatchBegin, new BatchBeginMessage
            {
                BatchId = 1,
                Writes = field switch
                {
                    "writes" => null!,
                    "write" => [null!],
                    _ => [new WireWrite { Region = null!, Offset = 0, Length = 16 }],
                },
            });
            var error = ErrorOf(await raw.ReadUntilClosedAsync(Limit));
            Assert.Equal(TransferErrorCode.Protocol, error.Code);
            Assert.Contains("nil", error.Message);
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
