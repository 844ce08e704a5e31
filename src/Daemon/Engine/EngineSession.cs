using System.IO.Pipelines;
using System.Net.Sockets;
using PdRdma.Daemon.Protocol;

namespace PdRdma.Daemon.Engine;

/// <summary>One engine's connection to the daemon: frames in, replies and pushed events out (sends serialised).</summary>
public sealed class EngineSession : IAsyncDisposable
{
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public EngineSession(long id, Socket socket)
    {
        Id = id;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Reader = PipeReader.Create(_stream);
        Writer = PipeWriter.Create(_stream);
    }

    public long Id { get; }

    public PipeReader Reader { get; }

    private PipeWriter Writer { get; }

    /// <summary>The engine asked for Arrived and LeaseEnded events.</summary>
    public bool Subscribed { get; set; }

    public async Task SendAsync(long correlationId, IEngineMessage message, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await FrameCodec.WriteAsync(Writer, new EngineFrame { Id = correlationId, Message = message }, ct).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Best effort push of an event; a closed session drops it (its leases are released on close).</summary>
    public async Task TryPushAsync(IEngineMessage message)
    {
        try
        {
            await SendAsync(0, message, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or Transport.TransferException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { _stream.Socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        await Reader.CompleteAsync().ConfigureAwait(false);
        await Writer.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
