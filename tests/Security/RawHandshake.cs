using PdRdma.Tests.Transport.Support;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Security;

/// <summary>The unauthenticated (no secret) handshake done by hand, choosing tcp, for tests that then misbehave.</summary>
internal static class RawHandshake
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    public static async Task TcpAsync(RawPeer raw)
    {
        await raw.SendFrameAsync(MessageType.Hello, new HelloMessage { Version = WireFormat.ProtocolVersion, NodeId = "raw", HostId = "raw-host", Nonce = new byte[32] });
        Assert.Equal(MessageType.Hello, (await raw.ReadFrameAsync(Limit))!.Value.Type);
        await raw.SendFrameAsync(MessageType.Setup, new SetupMessage { Backends = ["tcp"] });
        Assert.Equal(MessageType.Welcome, (await raw.ReadFrameAsync(Limit))!.Value.Type);
        await raw.SendFrameAsync(MessageType.SelectBackend, new SelectBackendMessage { Backend = "tcp", Reason = "raw" });
        await raw.SendFrameAsync(MessageType.BackendBlob, new BackendBlobMessage { Data = BitConverter.GetBytes(1 << 20) });
        Assert.Equal(MessageType.BackendBlob, (await raw.ReadFrameAsync(Limit))!.Value.Type);
    }
}
