using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Transport.Support;

/// <summary>A hand-driven TCP peer for feeding a target bytes no agent would send.</summary>
public sealed class RawPeer : IDisposable
{
    private readonly TcpClient _client = new();
    private NetworkStream _stream = null!;

    public static async Task<RawPeer> ConnectAsync(IPEndPoint endpoint)
    {
        var peer = new RawPeer();
        await peer._client.ConnectAsync(endpoint).WaitAsync(TimeSpan.FromSeconds(10));
        peer._stream = peer._client.GetStream();
        return peer;
    }

    public Task SendAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    internal Task SendFrameAsync<T>(MessageType type, T message) => SendAsync(Frame(type, MessagePack.MessagePackSerializer.Serialize(message, WireFormat.Options)));

    internal static byte[] Frame(MessageType type, byte[] body)
    {
        var frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(body.Length + 1));
        frame[4] = (byte)type;
        body.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>The next whole frame, or null when the target closed the connection.</summary>
    internal async Task<(MessageType Type, byte[] Body)?> ReadFrameAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var prefix = new byte[4];
        if (!await ReadExactlyAsync(prefix, cts.Token)) return null;
        var body = new byte[BinaryPrimitives.ReadUInt32LittleEndian(prefix)];
        if (!await ReadExactlyAsync(body, cts.Token)) return null;
        return ((MessageType)body[0], body[1..]);
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken ct)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer, ct);
            return true;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException)
        {
            return false;
        }
    }

    public void ShutdownSend() => _client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>Every frame the target sends until it closes the connection (bounded by a timeout).</summary>
    internal async Task<List<(MessageType Type, byte[] Body)>> ReadUntilClosedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var received = new MemoryStream();
        var buffer = new byte[64 << 10];
        try
        {
            int n;
            while ((n = await _stream.ReadAsync(buffer, cts.Token)) > 0) received.Write(buffer, 0, n);
        }
        catch (IOException)
        {
        }
        var bytes = received.ToArray();
        var frames = new List<(MessageType, byte[])>();
        for (var at = 0; at + 4 <= bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at));
            if (at + 4 + length > bytes.Length) break;
            frames.Add(((MessageType)bytes[at + 4], bytes.AsSpan(at + 5, length - 1).ToArray()));
            at += 4 + length;
        }
        return frames;
    }

    public void Dispose() => _client.Dispose();
}
