using System.IO.Pipelines;
using System.Net.Sockets;
using PdRdma.Daemon.Protocol;

namespace PdRdma.Tests.Security;

/// <summary>An engine-API client speaking raw frames, so that a test can send what DaemonClient never would (and not read).</summary>
internal sealed class RawEngine : IAsyncDisposable
{
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;

    private RawEngine(Socket socket)
    {
        Socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream);
        _writer = PipeWriter.Create(_stream);
    }

    public Socket Socket { get; }

    public static async Task<RawEngine> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return new RawEngine(socket);
    }

    public async Task SendAsync(long id, IEngineMessage message) =>
        await FrameCodec.WriteAsync(_writer, new EngineFrame { Id = id, Message = message }, CancellationToken.None);

    /// <summary>Sends a frame with <paramref name="descriptor"/> attached to its first byte, as DaemonClient does.</summary>
    public async Task SendWithDescriptorAsync(long id, IEngineMessage message, System.Runtime.InteropServices.SafeHandle descriptor)
    {
        var body = MessagePack.MessagePackSerializer.Serialize(new EngineFrame { Id = id, Message = message }, FrameCodec.Options);
        var bytes = new byte[4 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, body.Length);
        body.CopyTo(bytes, 4);
        PdRdma.Interop.Libc.UnixRights.Send(Socket.SafeHandle, bytes.AsSpan(0, 1), descriptor);
        await Socket.SendAsync(bytes.AsMemory(1), SocketFlags.None);
    }

    /// <summary>The next frame, or null when the daemon closed the connection; bounded.</summary>
    public async Task<EngineFrame?> ReadAsync(TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        try
        {
            return await FrameCodec.ReadAsync<EngineFrame>(_reader, 64 << 20, cts.Token);
        }
        catch (Exception e) when (e is IOException or PdRdma.Transport.TransferException)
        {
            return null;
        }
    }

    public async Task<IEngineMessage> CallAsync(long id, IEngineMessage message)
    {
        await SendAsync(id, message);
        while (true)
        {
            var frame = await ReadAsync(TimeSpan.FromSeconds(30)) ?? throw new IOException("daemon closed the connection");
            if (frame.Id == id) return frame.Message!;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { Socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
        await _stream.DisposeAsync();
    }
}
