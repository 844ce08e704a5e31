using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using PdRdma.Interop.Libc;
using PdRdma.Transport;

namespace PdRdma.Daemon.Engine;

/// <summary>
/// The read side of an engine's Unix socket, read with recvmsg so that a descriptor an engine attaches (SCM_RIGHTS,
/// one per message) is kept instead of silently closed. Descriptors queue in arrival order; at most
/// <see cref="MaxPending"/> may wait for the frame that claims them, one more is a protocol error. Writing goes
/// through the socket as usual. One reader at a time.
/// </summary>
public sealed class DescriptorStream : Stream
{
    /// <summary>Descriptors received and not yet claimed by a RegisterPool frame, at most.</summary>
    public const int MaxPending = 2;

    private const int EAgain = 11;
    private readonly Socket _socket;
    private readonly ConcurrentQueue<SafeFileHandle> _pending = new();

    public DescriptorStream(Socket socket) => _socket = socket;

    /// <summary>The oldest descriptor received and not yet claimed (ownership moves to the caller), or null.</summary>
    public SafeFileHandle? TakeDescriptor() => _pending.TryDequeue(out var fd) ? fd : null;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return 0;
        while (true)
        {
            // A zero-byte receive completes when data (or the end) is there, without consuming it or its descriptor.
            await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            int read;
            SafeFileHandle? descriptor;
            try
            {
                read = UnixRights.Receive(_socket.SafeHandle, buffer.Span, out descriptor);
            }
            catch (IOException e) when (e.HResult == EAgain)
            {
                continue;
            }
            catch (InvalidDataException e)
            {
                throw new TransferException(TransferErrorCode.Protocol, $"engine sent descriptors the engine API does not take: {e.Message}");
            }
            if (descriptor is not null)
            {
                _pending.Enqueue(descriptor);
                if (_pending.Count > MaxPending)
                    throw new TransferException(TransferErrorCode.Protocol, $"engine sent more than {MaxPending} descriptors no RegisterPool frame claimed");
            }
            return read;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var sent = await _socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            buffer = buffer[sent..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("write asynchronously");

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            while (_pending.TryDequeue(out var fd)) fd.Dispose();
            _socket.Dispose();
        }
        base.Dispose(disposing);
    }
}
