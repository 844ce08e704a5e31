using System.Net.Sockets;
using MessagePack;
using Microsoft.Win32.SafeHandles;
using PdRdma.Interop.Libc;
using PdRdma.Transport;
using PdRdma.Transport.LevelZero;
using PdRdma.Transport.LevelZero.Internal;

namespace PdRdma.Tests.Xpu;

/// <summary>The share handshake (offer, accept, fall back) in one process over a real socket pair, and hostile offers.</summary>
[Collection(LevelZeroCollection.Name)]
public sealed class XpuSharingTests(LevelZeroFixture fixture)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private LevelZeroDevice Device => fixture.Device!;

    [LevelZeroFact]
    public async Task EachPathGivesThePeerTheOwnersBytesAndTakesItsWrites()
    {
        foreach (var path in XpuSharing.AllPaths)
        {
            var (owner, peer) = Pair();
            using (owner)
            using (peer)
            {
                using var pool = LevelZeroDeviceRegion.Allocate(Device, "pool-" + path, 8192);
                var data = new byte[8192];
                new Random(5).NextBytes(data);
                pool.Write(0, data);
                var accepting = Task.Run(() => XpuSharing.Accept(peer, Device, 1 << 20));
                using var session = XpuSharing.Offer(owner, pool, [path]);
                using var window = await accepting.WaitAsync(Limit);
                Assert.Equal(path, session.Path);
                Assert.Equal(path, window.Path);
                var seen = new byte[8192];
                window.Read(0, seen);
                Assert.Equal(data, seen);
                window.Write(100, [9, 9, 9]);
                session.AbsorbFromPeer(0, 8192);
                pool.Read(100, seen.AsSpan(0, 3));
                Assert.Equal(new byte[] { 9, 9, 9 }, seen.AsSpan(0, 3).ToArray());
            }
        }
    }

    [LevelZeroFact]
    public async Task APeerWithoutTheDeviceGetsTheHostStagedPath()
    {
        var (owner, peer) = Pair();
        using (owner)
        using (peer)
        {
            using var pool = LevelZeroDeviceRegion.Allocate(Device, "no-device-peer", 4096);
            var accepting = Task.Run(() => XpuSharing.Accept(peer, device: null, 1 << 20));
            using var session = XpuSharing.Offer(owner, pool);
            using var window = await accepting.WaitAsync(Limit);
            Assert.Equal(XpuSharePath.HostStaged, session.Path);
        }
    }

    [LevelZeroFact]
    public async Task AnOfferLargerThanThePeerTakesIsRefusedOnEveryPath()
    {
        var (owner, peer) = Pair();
        using (owner)
        using (peer)
        {
            using var pool = LevelZeroDeviceRegion.Allocate(Device, "too-big", 8192);
            var accepting = Task.Run(() => XpuSharing.Accept(peer, Device, maxLength: 4096));
            var e = Assert.Throws<TransferException>(() => XpuSharing.Offer(owner, pool));
            Assert.Equal(TransferErrorCode.Unsupported, e.Code);
            Assert.Contains("OutOfBounds", e.Message, StringComparison.Ordinal);
            owner.Shutdown(SocketShutdown.Both);
            Assert.Equal(TransferErrorCode.PeerLost, (await Assert.ThrowsAsync<TransferException>(() => accepting.WaitAsync(Limit))).Code);
        }
    }

    [LevelZeroFact]
    public async Task HostileOffersAreRefusedWithTheReasonAndTheNextGoodOneIsTaken()
    {
        var (owner, peer) = Pair();
        using (owner)
        using (peer)
        {
            using var pool = LevelZeroDeviceRegion.Allocate(Device, "hostile", 4096);
            var accepting = Task.Run(() => XpuSharing.Accept(peer, Device, 1 << 20));
            var options = MessagePackSerializerOptions.Standard;
            var good = new ShareOffer { Path = XpuSharePath.SameDeviceIpc, RegionId = "hostile", Length = 4096, DeviceUuid = [.. Device.Uuid] };

            Assert.Contains("Protocol", Exchange(owner, good, null), StringComparison.Ordinal);                       // no descriptor
            using var pipe = new System.IO.Pipes.AnonymousPipeServerStream();
            using var notMemory = new SafeFileHandle(pipe.SafePipeHandle.DangerousGetHandle(), ownsHandle: false);
            var staged = Exchange(owner, good with { Path = XpuSharePath.HostStaged }, notMemory);
            Assert.True(staged.Contains("Protocol", StringComparison.Ordinal) || staged.Contains("OutOfBounds", StringComparison.Ordinal), staged);
            using (var fd = pool.ExportIpc())
            {
                Assert.Contains("Unsupported", Exchange(owner, good with { DeviceUuid = new byte[16] }, fd), StringComparison.Ordinal);   // another device
                Assert.Contains("OutOfBounds", Exchange(owner, good with { Length = 1L << 40 }, fd), StringComparison.Ordinal);
                Assert.Contains("OutOfBounds", Exchange(owner, good with { Length = 1 << 20 }, fd), StringComparison.Ordinal);            // beyond the mapping
                Assert.Contains("VersionMismatch", Exchange(owner, good with { Version = 99 }, fd), StringComparison.Ordinal);
                Assert.Contains("Protocol", Exchange(owner, good with { RegionId = "" }, fd), StringComparison.Ordinal);
                Assert.Contains("Unsupported", Exchange(owner, good with { Path = (XpuSharePath)77 }, fd), StringComparison.Ordinal);
                ShareWireSend(owner, good, fd);
            }
            var reply = MessagePackSerializer.Deserialize<ShareReply>(ReceiveRaw(owner), options);
            Assert.True(reply.Accepted);
            using var window = await accepting.WaitAsync(Limit);
            Assert.Equal(XpuSharePath.SameDeviceIpc, window.Path);
        }
    }

    [LevelZeroFact]
    public async Task GarbageOrSeveralDescriptorsEndTheHandshakeWithProtocol()
    {
        var (owner, peer) = Pair();
        using (owner)
        using (peer)
        {
            var accepting = Task.Run(() => XpuSharing.Accept(peer, Device, 1 << 20));
            UnixRights.Send(owner.SafeHandle, [0xc1, 0xff, 0x00], null);
            Assert.Equal(TransferErrorCode.Protocol, (await Assert.ThrowsAsync<TransferException>(() => accepting.WaitAsync(Limit))).Code);
        }
        (owner, peer) = Pair();
        using (owner)
        using (peer)
        {
            var accepting = Task.Run(() => XpuSharing.Accept(peer, Device, 1 << 20));
            using var a = File.OpenHandle("/dev/null");
            using var b = File.OpenHandle("/dev/null");
            SendTwoDescriptors(owner, a, b);
            Assert.Equal(TransferErrorCode.Protocol, (await Assert.ThrowsAsync<TransferException>(() => accepting.WaitAsync(Limit))).Code);
        }
    }

    private static (Socket Owner, Socket Peer) Pair()
    {
        var dir = Directory.CreateTempSubdirectory("pdrdma-share-");
        var path = Path.Combine(dir.FullName, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var owner = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        owner.Connect(new UnixDomainSocketEndPoint(path));
        var peer = listener.Accept();
        dir.Delete(recursive: true); // connected sockets outlive their path
        owner.ReceiveTimeout = peer.ReceiveTimeout = 20_000;
        return (owner, peer);
    }

    private static string Exchange(Socket owner, ShareOffer offer, SafeFileHandle? fd)
    {
        ShareWireSend(owner, offer, fd);
        var reply = MessagePackSerializer.Deserialize<ShareReply>(ReceiveRaw(owner), MessagePackSerializerOptions.Standard);
        Assert.False(reply.Accepted);
        return reply.Error ?? "";
    }

    private static void ShareWireSend(Socket owner, ShareOffer offer, SafeFileHandle? fd) =>
        UnixRights.Send(owner.SafeHandle, MessagePackSerializer.Serialize(offer, MessagePackSerializerOptions.Standard), fd);

    private static byte[] ReceiveRaw(Socket socket)
    {
        var buffer = new byte[4096];
        var n = UnixRights.Receive(socket.SafeHandle, buffer, out var fd);
        fd?.Dispose();
        return buffer[..n];
    }

    /// <summary>A raw sendmsg with two SCM_RIGHTS descriptors (what a hostile owner could send).</summary>
    private static void SendTwoDescriptors(Socket socket, SafeFileHandle a, SafeFileHandle b)
    {
        UnixRights.SendMany(socket.SafeHandle, [1], [a, b]);
    }
}
