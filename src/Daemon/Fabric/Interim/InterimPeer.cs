using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Daemon.Fabric.Interim;

/// <summary>Initiator side of one authenticated interim link: one send lock, one receive loop completing writes by sequence.</summary>
internal sealed class InterimPeer : IKvPeer
{
    private readonly InterimTcpFabric _fabric;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ConcurrentDictionary<long, TaskCompletionSource> _pending = new();
    private readonly CancellationTokenSource _closed = new();
    private long _seq;
    private Task? _receiveLoop;
    private TransferException? _failure;

    private InterimPeer(InterimTcpFabric fabric, Socket socket, string endpoint)
    {
        _fabric = fabric;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream);
        _writer = PipeWriter.Create(_stream);
        Endpoint = endpoint;
    }

    public string PeerNodeId { get; private set; } = "?";

    public string Endpoint { get; }

    public string Backend => "tcp";

    public string BackendReason => "interim daemon fabric: tcp for every pair until src/Transport's TransferAgent is merged";

    public bool IsAlive => _failure is null && !_closed.IsCancellationRequested;

    public static async Task<InterimPeer> HandshakeAsync(InterimTcpFabric fabric, Socket socket, string endpoint, CancellationToken ct)
    {
        var peer = new InterimPeer(fabric, socket, endpoint);
        try
        {
            var nonce = ChallengeResponse.NewNonce();
            await FrameCodec.WriteAsync(peer._writer, new PeerFrame { Kind = PeerFrameKind.Hello, NodeId = fabric.NodeId, Nonce = nonce }, ct).ConfigureAwait(false);
            var reply = await FrameCodec.ReadAsync<PeerFrame>(peer._reader, 4096, ct).ConfigureAwait(false)
                ?? throw new TransferException(TransferErrorCode.PeerLost, $"peer {endpoint} closed the connection during the handshake");
            ThrowIfError(reply, endpoint);
            var expected = ChallengeResponse.Prove(fabric.Secret, "server", reply.Nonce ?? [], nonce, reply.NodeId, fabric.NodeId);
            if (reply.Kind != PeerFrameKind.HelloReply || reply.Nonce is not { Length: 32 } || !ChallengeResponse.Verify(expected, reply.Proof))
            {
                throw new TransferException(TransferErrorCode.Unauthenticated, $"peer {endpoint} ({reply.NodeId}) failed authentication: it does not hold this cluster's secret");
            }
            await FrameCodec.WriteAsync(peer._writer, new PeerFrame
            {
                Kind = PeerFrameKind.Proof,
                NodeId = fabric.NodeId,
                Proof = ChallengeResponse.Prove(fabric.Secret, "client", nonce, reply.Nonce, fabric.NodeId, reply.NodeId),
            }, ct).ConfigureAwait(false);
            var welcome = await FrameCodec.ReadAsync<PeerFrame>(peer._reader, 4096, ct).ConfigureAwait(false)
                ?? throw new TransferException(TransferErrorCode.Unauthenticated, $"peer {endpoint} closed the connection after our proof (wrong cluster secret?)");
            ThrowIfError(welcome, endpoint);
            peer.PeerNodeId = reply.NodeId;
            peer._receiveLoop = Task.Run(peer.ReceiveLoopAsync, CancellationToken.None);
            return peer;
        }
        catch
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static void ThrowIfError(PeerFrame frame, string endpoint)
    {
        if (frame.Kind == PeerFrameKind.Error)
        {
            throw new TransferException((TransferErrorCode)frame.ErrorCode, $"peer {endpoint}: {frame.Error}");
        }
    }

    public async Task WriteAsync(FabricBatch batch, CancellationToken ct)
    {
        if (_failure is not null) throw _failure;
        var total = batch.Bytes;
        if (total > InterimTcpFabric.MaxFrameBytes - 65536)
            throw new TransferException(TransferErrorCode.Unsupported, $"batch of {total} bytes exceeds the interim fabric's frame limit");
        var data = new byte[total];
        var ops = new WireOp[batch.Ops.Count];
        long position = 0;
        for (var i = 0; i < ops.Length; i++)
        {
            var op = batch.Ops[i];
            if (!_fabric.TryGetRegion(op.SourceRegion, out var source))
                throw new TransferException(TransferErrorCode.UnknownRegion, $"no local region '{op.SourceRegion}'");
            if (op.SourceOffset < 0 || op.SourceOffset + op.Length > source.Length)
                throw new TransferException(TransferErrorCode.OutOfBounds, $"[{op.SourceOffset}, {op.SourceOffset + op.Length}) is outside local region '{op.SourceRegion}'");
            source.CopyOut(op.SourceOffset, data.AsSpan((int)position, (int)op.Length));
            position += op.Length;
            ops[i] = new WireOp { Region = op.TargetRegion, Offset = op.TargetOffset, Length = op.Length };
        }
        var seq = Interlocked.Increment(ref _seq);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[seq] = done;
        try
        {
            await _sendLock.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await FrameCodec.WriteAsync(_writer, new PeerFrame { Kind = PeerFrameKind.Write, Seq = seq, Ops = ops, Data = data, Notification = batch.Notification }, ct).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            _pending.TryRemove(seq, out _);
            throw Fail(new TransferException(TransferErrorCode.PeerLost, $"peer {PeerNodeId} ({Endpoint}) lost while sending: {e.Message}", e));
        }
        await done.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                var frame = await FrameCodec.ReadAsync<PeerFrame>(_reader, 1 << 20, _closed.Token).ConfigureAwait(false);
                if (frame is null) break;
                if (frame.Kind == PeerFrameKind.Error && frame.Seq == 0)
                {
                    Fail(new TransferException((TransferErrorCode)frame.ErrorCode, $"peer {PeerNodeId}: {frame.Error}"));
                    return;
                }
                if (!_pending.TryRemove(frame.Seq, out var done)) continue;
                if (frame.Kind == PeerFrameKind.Ack) done.TrySetResult();
                else done.TrySetException(new TransferException((TransferErrorCode)frame.ErrorCode, $"peer {PeerNodeId}: {frame.Error}"));
            }
            Fail(new TransferException(TransferErrorCode.PeerLost, $"peer {PeerNodeId} ({Endpoint}) closed the connection"));
        }
        catch (Exception e)
        {
            Fail(e as TransferException ?? new TransferException(TransferErrorCode.PeerLost, $"peer {PeerNodeId} ({Endpoint}) lost: {e.Message}", e));
        }
    }

    private TransferException Fail(TransferException error)
    {
        _failure ??= error;
        foreach (var seq in _pending.Keys)
        {
            if (_pending.TryRemove(seq, out var done)) done.TrySetException(_failure);
        }
        return _failure;
    }

    public async ValueTask DisposeAsync()
    {
        if (_closed.IsCancellationRequested) return;
        Fail(new TransferException(TransferErrorCode.PeerLost, $"link to {PeerNodeId} closed"));
        _closed.Cancel();
        try { _stream.Socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        await _stream.DisposeAsync().ConfigureAwait(false);
        if (_receiveLoop is not null) await _receiveLoop.ConfigureAwait(false);
    }
}
