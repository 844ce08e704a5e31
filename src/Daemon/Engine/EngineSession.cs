using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using PdRdma.Daemon.Observability;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Daemon.Engine;

/// <summary>
/// One engine's connection to the daemon. Frames are read by one loop (<see cref="ReadAsync"/>); everything sent
/// (replies and pushed events) goes through one send loop, each frame bounded by
/// <see cref="EngineSessionLimits.SendTimeout"/>. What the session can hold is bounded: at most
/// <see cref="EngineSessionLimits.MaxConcurrentRequests"/> requests in work (a reply is queued only while its
/// request holds a slot) and <see cref="EngineSessionLimits.MaxQueuedEvents"/> queued events; an engine that stops
/// reading is closed, so it never holds up the daemon or another engine. Thread-safe.
/// </summary>
public sealed class EngineSession : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly DescriptorStream _stream;
    private readonly PipeWriter _writer;
    private readonly EngineSessionLimits _limits;
    private readonly DaemonMetrics? _metrics;
    private readonly SemaphoreSlim _work;
    private readonly Channel<Outgoing> _outgoing = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource<string> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _sendLoop;
    private int _queuedEvents;
    private int _disposed;

    public EngineSession(long id, Socket socket, EngineSessionLimits limits, DaemonMetrics? metrics = null)
    {
        Id = id;
        _limits = limits;
        _metrics = metrics;
        _work = new SemaphoreSlim(limits.MaxConcurrentRequests, limits.MaxConcurrentRequests);
        _socket = socket;
        _stream = new DescriptorStream(socket);
        Reader = PipeReader.Create(_stream);
        _writer = PipeWriter.Create(_stream);
        _sendLoop = Task.Run(SendLoopAsync, CancellationToken.None);
    }

    public long Id { get; }

    /// <summary>The read side; only the session's read loop uses it.</summary>
    public PipeReader Reader { get; }

    /// <summary>The oldest pool descriptor the engine attached and no frame claimed yet (ownership moves to the caller), or null.</summary>
    public Microsoft.Win32.SafeHandles.SafeFileHandle? TakeDescriptor() => _stream.TakeDescriptor();

    /// <summary>The engine asked for Arrived and LeaseEnded events.</summary>
    public bool Subscribed { get; set; }

    /// <summary>Requests in work now.</summary>
    public int RequestsInWork => _limits.MaxConcurrentRequests - _work.CurrentCount;

    /// <summary>Events queued and not yet sent.</summary>
    public int QueuedEvents => Volatile.Read(ref _queuedEvents);

    /// <summary>Completes with the reason when the session is closed (by the engine, a limit, or the daemon).</summary>
    public Task<string> Closed => _closed.Task;

    /// <summary>Cancelled when the session closes.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Reads the next frame; null at a clean end of stream. Throws TransferException (Protocol) on bad input.</summary>
    public ValueTask<EngineFrame?> ReadAsync(CancellationToken ct) => FrameCodec.ReadAsync<EngineFrame>(Reader, _limits.MaxFrameBytes, ct);

    /// <summary>Takes a work slot for one request without waiting; false when the session is at its limit.</summary>
    public bool TryStartRequest() => _work.Wait(0);

    /// <summary>Sends the reply of a request that holds a slot, then frees the slot; a failed send closes the session.</summary>
    public async Task ReplyAndFinishAsync(long correlationId, IEngineMessage reply)
    {
        try
        {
            await SendAsync(correlationId, reply).ConfigureAwait(false);
        }
        finally
        {
            _work.Release();
        }
    }

    /// <summary>Sends one frame and waits until it was written (or the session closed); never throws.</summary>
    public async Task SendAsync(long correlationId, IEngineMessage message)
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_outgoing.Writer.TryWrite(new Outgoing(new EngineFrame { Id = correlationId, Message = message }, sent, IsEvent: false))) return;
        await Task.WhenAny(sent.Task, _closed.Task).ConfigureAwait(false);
    }

    /// <summary>
    /// Queues an event without waiting. Returns false when the session is closed; when its event queue is full the
    /// session is closed (the engine stopped reading) and false is returned.
    /// </summary>
    public bool TryPush(IEngineMessage message)
    {
        if (_closed.Task.IsCompleted) return false;
        if (Interlocked.Increment(ref _queuedEvents) > _limits.MaxQueuedEvents)
        {
            Interlocked.Decrement(ref _queuedEvents);
            _metrics?.Refused("events_per_engine");
            _metrics?.SessionClosed("events_full");
            Close($"engine did not read its events: {_limits.MaxQueuedEvents} queued");
            return false;
        }
        if (_outgoing.Writer.TryWrite(new Outgoing(new EngineFrame { Id = 0, Message = message }, null, IsEvent: true))) return true;
        Interlocked.Decrement(ref _queuedEvents);
        return false;
    }

    /// <summary>Closes the session (idempotent): the read loop ends, queued frames are dropped, the socket shuts down.</summary>
    public void Close(string reason)
    {
        if (!_closed.TrySetResult(reason)) return;
        _outgoing.Writer.TryComplete();
        try { _closing.Cancel(); } catch (ObjectDisposedException) { }
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var item in _outgoing.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (item.IsEvent) Interlocked.Decrement(ref _queuedEvents);
                if (_closed.Task.IsCompleted) { item.Sent?.TrySetResult(); continue; }
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
                bounded.CancelAfter(_limits.SendTimeout);
                try
                {
                    await FrameCodec.WriteAsync(_writer, item.Frame, bounded.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!_closing.IsCancellationRequested)
                {
                    _metrics?.SessionClosed("send_timeout");
                    Close($"engine did not read for {_limits.SendTimeout.TotalSeconds:0.#} s");
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or TransferException or SocketException or OperationCanceledException)
                {
                    Close($"send failed: {e.Message}");
                }
                item.Sent?.TrySetResult();
            }
        }
        finally
        {
            while (_outgoing.Reader.TryRead(out var left)) left.Sent?.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close("daemon closed the session");
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _sendLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Reader.CompleteAsync().ConfigureAwait(false);
        await _writer.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        // _work and _closing stay undisposed: requests still running may finish (and release) after the session closed.
    }

    private sealed record Outgoing(EngineFrame Frame, TaskCompletionSource? Sent, bool IsEvent);
}
