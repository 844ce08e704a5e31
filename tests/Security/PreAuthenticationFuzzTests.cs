using System.Net.Sockets;
using System.Security.Cryptography;
using MessagePack;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Security;

/// <summary>
/// Issue 11: fuzzed frames from peers that hold no secret, against a target that requires one — at least 10⁴ frames
/// per run (seeded, so a failure replays): random types and bodies, real Hellos with bits flipped, lying length
/// prefixes, truncated frames, frames after a real Hello. The target must place nothing, announce nothing, not crash,
/// and still serve a peer that holds the secret.
/// </summary>
public sealed class PreAuthenticationFuzzTests
{
    // one fuzzed frame per connection (half of them after a real Hello): the target ends a connection at its first bad
    // frame, so every fuzzed frame reaches its parser
    private const int Connections = 11_000;
    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public async Task TenThousandFuzzedFramesPlaceNothingAndTheTargetServesOn()
    {
        await using var pair = await AgentPair.StartAsync(
            regionBytes: 1 << 20,
            target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, ClusterSecret = Secret },
            initiator: o => new TransferAgentOptions { NodeId = o.NodeId, ClusterSecret = Secret });
        var before = TestBytes.Hash(pair.TargetRegion);
        var hello = MessagePackSerializer.Serialize(new HelloMessage { Version = WireFormat.ProtocolVersion, NodeId = "fuzz", HostId = "fuzz", Nonce = new byte[32], AuthRequired = true }, WireFormat.Options);
        var sent = 0;
        await Parallel.ForAsync(0, Connections, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (seed, _) =>
        {
            var random = new Random(seed);
            var first = random.Next(2) == 0 ? RawPeer.Frame(MessageType.Hello, hello) : null;
            var fuzzed = Fuzzed(random, hello);
            using var socket = new TcpClient();
            try
            {
                await socket.ConnectAsync(pair.Endpoint).WaitAsync(TimeSpan.FromSeconds(10));
                var stream = socket.GetStream();
                if (first is not null) await stream.WriteAsync(first).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                await stream.WriteAsync(fuzzed).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                Interlocked.Increment(ref sent);
            }
            catch (Exception e) when (e is IOException or SocketException or TimeoutException)
            {
                // the target may close a connection before the fuzzed frame is written (after a Hello it cannot use)
            }
        });
        Assert.True(sent >= 10_000, $"only {sent} of {Connections} fuzzed frames went out");
        Console.WriteLine($"pre-authentication fuzz: {sent} fuzzed frames on {Connections} connections, region unchanged");
        await Task.Delay(300);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        Assert.False(pair.Target.Notifications.TryRead(out _));
        await pair.AssertServesAnotherPeerAsync(secret: Secret);
    }

    /// <summary>One hostile frame: random type and body, a flipped Hello, a lying length, or a truncated frame.</summary>
    private static byte[] Fuzzed(Random random, byte[] hello)
    {
        switch (random.Next(4))
        {
            case 0:
            {
                var body = new byte[random.Next(0, 512)];
                random.NextBytes(body);
                return RawPeer.Frame((MessageType)random.Next(0, 32), body);
            }
            case 1:
            {
                var body = (byte[])hello.Clone();
                for (var flips = random.Next(1, 8); flips > 0; flips--) body[random.Next(body.Length)] ^= (byte)(1 << random.Next(8));
                return RawPeer.Frame(MessageType.Hello, body);
            }
            case 2:
            {
                // a length prefix far beyond what follows (up to 4 GiB): refused from the prefix, never allocated
                var frame = RawPeer.Frame(MessageType.Hello, hello);
                BitConverter.TryWriteBytes(frame.AsSpan(0, 4), (uint)random.NextInt64(1L << 16, 1L << 32));
                return frame;
            }
            default:
            {
                var frame = RawPeer.Frame((MessageType)random.Next(0, 32), hello);
                return frame[..random.Next(1, frame.Length)];
            }
        }
    }
}
