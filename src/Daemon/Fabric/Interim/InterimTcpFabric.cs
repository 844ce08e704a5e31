using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Daemon.Fabric.Interim;

/// <summary>
/// A small TCP implementation of <see cref="IKvFabric"/> used until src/Transport's TransferAgent is merged:
/// mutual challenge–response authentication, writes placed straight into registered regions after the gate
/// approves every op of the batch (a refused batch writes nothing), notifications after the bytes.
/// </summary>
public sealed partial class InterimTcpFabric : IKvFabric
{
    internal const int MaxFrameBytes = 512 << 20;
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly FabricOptions _options;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, IMemoryRegion> _regions = new(StringComparer.Ordinal);
    private readonly Channel<FabricNotification> _notifications = Channel.CreateUnbounded<FabricNotification>();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Socket, byte> _accepted = new();
    private Socket? _listener;
    private Task? _acceptLoop;

    public InterimTcpFabric(FabricOptions options)
    {
        _options = options;
        _log = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<InterimTcpFabric>();
    }

    public string NodeId => _options.NodeId;

    public IPEndPoint? LocalEndpoint => _listener?.LocalEndPoint as IPEndPoint;

    public ChannelReader<FabricNotification> Notifications => _notifications.Reader;

    internal byte[] Secret => _options.ClusterSecret;

    public void RegisterRegion(IMemoryRegion region) => _regions[region.Id] = region;

    internal bool TryGetRegion(string id, out IMemoryRegion region) => _regions.TryGetValue(id, out region!);

    public Task StartAsync(CancellationToken ct)
    {
        var listener = new Socket(_options.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(_options.Listen);
        listener.Listen(64);
        _listener = listener;
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task<IKvPeer> ConnectAsync(EndPoint peer, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HandshakeTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(peer, timeout.Token).ConfigureAwait(false);
            return await InterimPeer.HandshakeAsync(this, socket, peer.ToString() ?? "?", timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TransferException(TransferErrorCode.PeerLost, $"cannot reach peer {peer}: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                LogAcceptFailed(_log, e.Message);
                continue;
            }
            socket.NoDelay = true;
            _accepted[socket] = 0;
            _ = Task.Run(() => ServeAsync(socket), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream);
        var writer = PipeWriter.Create(stream);
        string peerId = "?";
        try
        {
            peerId = await AuthenticateInboundAsync(reader, writer, remote).ConfigureAwait(false) ?? "";
            if (peerId.Length == 0) return;
            while (true)
            {
                var frame = await FrameCodec.ReadAsync<PeerFrame>(reader, MaxFrameBytes, _stop.Token).ConfigureAwait(false);
                if (frame is null) return;
                if (frame.Kind != PeerFrameKind.Write)
                {
                    throw new TransferException(TransferErrorCode.Protocol, $"unexpected {frame.Kind} frame");
                }
                var reply = Place(peerId, frame);
                await FrameCodec.WriteAsync(writer, reply, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (TransferException e)
        {
            LogPeerDropped(_log, peerId, remote, e.Message);
            try { await FrameCodec.WriteAsync(writer, Error(0, e.Code, e.Detail), CancellationToken.None).ConfigureAwait(false); } catch (Exception) { }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            LogPeerDropped(_log, peerId, remote, e.Message);
        }
        finally
        {
            _accepted.TryRemove(socket, out _);
            await reader.CompleteAsync().ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <returns>The authenticated peer's node id, or null when it was refused.</returns>
    private async Task<string?> AuthenticateInboundAsync(PipeReader reader, PipeWriter writer, string remote)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(HandshakeTimeout);
        var hello = await FrameCodec.ReadAsync<PeerFrame>(reader, 4096, timeout.Token).ConfigureAwait(false);
        if (hello is null) return null;
        if (hello.Version != PeerFrame.CurrentVersion)
        {
            await Refuse(writer, TransferErrorCode.VersionMismatch, $"peer speaks protocol v{hello.Version}, this node (node {NodeId}) v{PeerFrame.CurrentVersion}").ConfigureAwait(false);
            return null;
        }
        if (hello.Kind != PeerFrameKind.Hello || hello.Nonce is not { Length: 32 } || string.IsNullOrEmpty(hello.NodeId))
        {
            await Refuse(writer, TransferErrorCode.Protocol, "expected a Hello frame with a 32-byte nonce and a node id").ConfigureAwait(false);
            return null;
        }
        var nonce = ChallengeResponse.NewNonce();
        await FrameCodec.WriteAsync(writer, new PeerFrame
        {
            Kind = PeerFrameKind.HelloReply,
            NodeId = NodeId,
            Nonce = nonce,
            Proof = ChallengeResponse.Prove(Secret, "server", nonce, hello.Nonce, NodeId, hello.NodeId),
        }, timeout.Token).ConfigureAwait(false);
        var proof = await FrameCodec.ReadAsync<PeerFrame>(reader, 4096, timeout.Token).ConfigureAwait(false);
        var expected = ChallengeResponse.Prove(Secret, "client", hello.Nonce, nonce, hello.NodeId, NodeId);
        if (proof is null || proof.Kind != PeerFrameKind.Proof || !ChallengeResponse.Verify(expected, proof.Proof))
        {
            LogAuthRefused(_log, hello.NodeId, remote);
            AuthFailures++;
            if (proof is not null) await Refuse(writer, TransferErrorCode.Unauthenticated, $"node {NodeId} refused the connection: cluster secret proof failed").ConfigureAwait(false);
            return null;
        }
        await FrameCodec.WriteAsync(writer, new PeerFrame { Kind = PeerFrameKind.Welcome, NodeId = NodeId }, timeout.Token).ConfigureAwait(false);
        LogPeerAccepted(_log, hello.NodeId, remote);
        return hello.NodeId;
    }

    /// <summary>Inbound peers refused by authentication since start (for tests and metrics).</summary>
    public long AuthFailures { get; private set; }

    private static ValueTask Refuse(PipeWriter writer, TransferErrorCode code, string message) =>
        FrameCodec.WriteAsync(writer, Error(0, code, message), CancellationToken.None);

    private PeerFrame Place(string peerId, PeerFrame frame)
    {
        var ops = frame.Ops ?? [];
        var data = frame.Data ?? [];
        long total = 0;
        // Every op is checked before any byte is written: a refused batch leaves the target untouched.
        foreach (var op in ops)
        {
            if (!_regions.TryGetValue(op.Region, out var region))
                return Error(frame.Seq, TransferErrorCode.UnknownRegion, $"node {NodeId} has no region '{op.Region}'");
            if (op.Offset < 0 || op.Length < 0 || op.Offset + op.Length > region.Length)
                return Error(frame.Seq, TransferErrorCode.OutOfBounds, $"[{op.Offset}, {op.Offset + op.Length}) is outside region '{op.Region}' of {region.Length} bytes");
            if (_options.Gate is { } gate && !gate.CanWrite(peerId, op.Region, op.Offset, op.Length))
                return Error(frame.Seq, TransferErrorCode.AccessDenied, $"node {NodeId} holds no lease for {peerId} covering [{op.Offset}, {op.Offset + op.Length}) of '{op.Region}'");
            total += op.Length;
        }
        if (total != data.Length)
            return Error(frame.Seq, TransferErrorCode.Protocol, $"batch declares {total} bytes but carries {data.Length}");
        long position = 0;
        foreach (var op in ops)
        {
            _regions[op.Region].CopyIn(op.Offset, data.AsSpan((int)position, (int)op.Length));
            position += op.Length;
        }
        if (frame.Notification is not null)
        {
            _notifications.Writer.TryWrite(new FabricNotification(peerId, frame.Notification, total));
        }
        return new PeerFrame { Kind = PeerFrameKind.Ack, Seq = frame.Seq };
    }

    internal static PeerFrame Error(long seq, TransferErrorCode code, string message) =>
        new() { Kind = PeerFrameKind.Error, Seq = seq, ErrorCode = (int)code, Error = message };

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener?.Dispose();
        foreach (var socket in _accepted.Keys)
        {
            try { socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        }
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        _notifications.Writer.TryComplete();
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "peer {PeerNodeId} from {Remote} failed authentication (wrong or missing cluster secret): refused, nothing written")]
    private static partial void LogAuthRefused(ILogger logger, string peerNodeId, string remote);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "peer {PeerNodeId} from {Remote} authenticated")]
    private static partial void LogPeerAccepted(ILogger logger, string peerNodeId, string remote);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "peer {PeerNodeId} ({Remote}) disconnected: {Reason}")]
    private static partial void LogPeerDropped(ILogger logger, string peerNodeId, string remote, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "accept failed: {Reason}")]
    private static partial void LogAcceptFailed(ILogger logger, string reason);
}
