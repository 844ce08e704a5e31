using Microsoft.Extensions.Logging;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport.Internal;

/// <summary>
/// The target side of one accepted connection: handshake, then one loop that validates batches, places tcp data,
/// verifies checksums and notifies. Any failure of this peer ends this session only; the agent keeps serving others.
/// </summary>
internal sealed class TargetSession(AgentCore core, ControlConnection connection)
{
    private const int MaxNotificationBytes = 64 << 10;
    private readonly Dictionary<long, AcceptedBatch> _batches = new();
    private string _peer = "(unauthenticated)";
    private ITransferBackend? _backend;
    private IBackendLink? _link;

    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(stopping, connection.Lifetime))
            {
                handshake.CancelAfter(core.Options.HandshakeTimeout);
                try
                {
                    await HandshakeAsync(handshake.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                {
                    throw new TransferException(TransferErrorCode.Timeout, $"handshake not finished within {core.Options.HandshakeTimeout.TotalSeconds:0.#} s");
                }
            }
            await ServeAsync(stopping).ConfigureAwait(false);
        }
        catch (TransferException ex)
        {
            TransportMetrics.Error("target", ex.Code);
            if (_link is null) TransportLog.Refused(core.Logger, connection.RemoteEndPoint, ex.Code, ex.Detail);
            else TransportLog.Dropped(core.Logger, _peer, connection.RemoteEndPoint, ex.Code, ex.Detail);
            if (ex.Code != TransferErrorCode.PeerLost) await TrySendFatalAsync(ex).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            if (_batches.Count > 0) TransportLog.Disconnected(core.Logger, _peer, _batches.Count);
            if (_link is not null) await _link.DisposeAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
            TransportMetrics.Forget(_peer, sent: false);
        }
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        var first = await ExpectAsync(MessageType.Hello, ct).ConfigureAwait(false);
        var version = first.Read<VersionProbe>().Version;
        if (version != core.ProtocolVersion)
        {
            throw new TransferException(TransferErrorCode.VersionMismatch, $"peer speaks protocol version {version}, target {core.Options.NodeId} speaks version {core.ProtocolVersion}");
        }
        var hello = first.Read<HelloMessage>();
        _peer = string.IsNullOrWhiteSpace(hello.NodeId) ? "(unnamed)" : hello.NodeId;
        if (hello.Nonce.Length != ClusterAuth.NonceBytes) throw new TransferException(TransferErrorCode.Protocol, $"hello nonce of {hello.Nonce.Length} bytes, {ClusterAuth.NonceBytes} expected");

        var secret = core.Options.ClusterSecret;
        var nonce = ClusterAuth.NewNonce();
        await connection.SendAsync(MessageType.Hello, new HelloMessage
        {
            Version = core.ProtocolVersion,
            NodeId = core.Options.NodeId,
            HostId = core.Options.HostId,
            Nonce = nonce,
            AuthRequired = secret is not null,
            Proof = secret is null ? null : ClusterAuth.TargetProof(secret, hello.Nonce, nonce, hello.NodeId, core.Options.NodeId),
        }, ct).ConfigureAwait(false);

        var setup = (await ExpectAsync(MessageType.Setup, ct).ConfigureAwait(false)).Read<SetupMessage>();
        if (secret is not null && !ClusterAuth.Matches(ClusterAuth.InitiatorProof(secret, hello.Nonce, nonce, hello.NodeId, core.Options.NodeId), setup.Proof))
        {
            throw new TransferException(TransferErrorCode.Unauthenticated, $"peer '{_peer}' did not prove knowledge of the cluster secret");
        }
        if (core.Options.Layout is { } local && setup.Layout is { } remote) local.EnsureTranslatableTo(remote);

        await connection.SendAsync(MessageType.Welcome, new WelcomeMessage
        {
            Layout = core.Options.Layout,
            Backends = core.BackendNames,
            Regions = core.DescribeRegions(),
        }, ct).ConfigureAwait(false);

        var select = (await ExpectAsync(MessageType.SelectBackend, ct).ConfigureAwait(false)).Read<SelectBackendMessage>();
        _backend = core.Backends.FirstOrDefault(b => b.Name == select.Backend)
            ?? throw new TransferException(TransferErrorCode.Unsupported, $"peer chose backend '{select.Backend}', target offers {string.Join(", ", core.BackendNames)}");
        if (_backend.Capabilities.SameHostOnly && hello.HostId != core.Options.HostId)
        {
            throw new TransferException(TransferErrorCode.Unsupported, $"backend '{_backend.Name}' works on one host only and the peer's host id differs");
        }
        var context = new BackendConnectContext
        {
            LocalNodeId = core.Options.NodeId,
            PeerNodeId = _peer,
            SameHost = hello.HostId == core.Options.HostId,
            LocalRegions = core.Regions,
            RemoteRegions = setup.Regions.Where(r => r is not null).GroupBy(r => r.RegionId).ToDictionary(g => g.Key, g => g.First()),
            Control = new ControlLink(connection),
            Logger = core.Logger,
        };
        _link = await _backend.AcceptAsync(context, ct).ConfigureAwait(false);
        TransportLog.Accepted(core.Logger, _peer, connection.RemoteEndPoint, _backend.Name, select.Reason);
    }

    private async Task ServeAsync(CancellationToken stopping)
    {
        while (await connection.ReadFrameAsync(stopping).ConfigureAwait(false) is { } frame)
        {
            switch (frame.Type)
            {
                case MessageType.BatchBegin:
                    await BeginAsync(frame.Read<BatchBeginMessage>(), stopping).ConfigureAwait(false);
                    break;
                case MessageType.DataChunk:
                    await ReceiveChunkAsync(frame.Read<DataChunkMessage>(), stopping).ConfigureAwait(false);
                    break;
                case MessageType.Commit:
                    await CommitAsync(frame.Read<CommitMessage>(), stopping).ConfigureAwait(false);
                    break;
                case MessageType.Abort:
                    _batches.Remove(frame.Read<BatchIdMessage>().BatchId);
                    break;
                default:
                    throw new TransferException(TransferErrorCode.Protocol, $"unexpected {frame.Type} frame from an established peer");
            }
        }
    }

    private async ValueTask BeginAsync(BatchBeginMessage begin, CancellationToken ct)
    {
        if (_batches.ContainsKey(begin.BatchId)) throw new TransferException(TransferErrorCode.Protocol, $"batch id {begin.BatchId} is already in flight");
        if (_batches.Count >= core.Options.MaxBatchesInFlight * 4) throw new TransferException(TransferErrorCode.Protocol, $"more than {core.Options.MaxBatchesInFlight * 4} batches in flight");
        try
        {
            var batch = Validate(begin);
            _batches.Add(batch.Id, batch);
            await connection.SendAsync(MessageType.Proceed, new BatchIdMessage { BatchId = batch.Id }, ct).ConfigureAwait(false);
        }
        catch (TransferException ex) when (ex.Code is not TransferErrorCode.Protocol)
        {
            await RejectAsync(begin.BatchId, ex, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Every write of the batch is checked before any is accepted: a rejected batch places nothing.</summary>
    private AcceptedBatch Validate(BatchBeginMessage begin)
    {
        if (begin.BatchId < 0) throw new TransferException(TransferErrorCode.Protocol, $"negative batch id {begin.BatchId}");
        if (!Enum.IsDefined(begin.Checksum)) throw new TransferException(TransferErrorCode.Unsupported, $"unknown checksum kind {(int)begin.Checksum}");
        if (begin.Notification is { Length: > MaxNotificationBytes }) throw new TransferException(TransferErrorCode.Protocol, $"notification of {begin.Notification.Length} bytes, at most {MaxNotificationBytes}");
        var writes = new (IMemoryRegion, long, long)[begin.Writes.Length];
        for (var i = 0; i < writes.Length; i++)
        {
            var w = begin.Writes[i] ?? throw new TransferException(TransferErrorCode.Protocol, $"write {i} is empty");
            if (!core.Regions.TryGetValue(w.Region ?? "", out var region))
            {
                throw new TransferException(TransferErrorCode.UnknownRegion, $"write {i}: region '{w.Region}' is not registered on {core.Options.NodeId}");
            }
            if (w.Length <= 0 || w.Offset < 0 || w.Offset > region.Length - w.Length)
            {
                throw new TransferException(TransferErrorCode.OutOfBounds, $"write {i}: [{w.Offset}, {w.Offset + w.Length}) is outside region '{region.Id}' of {region.Length} bytes");
            }
            if (!_backend!.Capabilities.MemoryKinds.Contains(region.Kind))
            {
                throw new TransferException(TransferErrorCode.Unsupported, $"write {i}: backend '{_backend.Name}' cannot write {region.Kind} region '{region.Id}'");
            }
            if (core.Options.Authorizer is { } authorizer && !authorizer.CanWrite(_peer, region.Id, w.Offset, w.Length))
            {
                throw new TransferException(TransferErrorCode.AccessDenied, $"write {i}: peer '{_peer}' may not write [{w.Offset}, {w.Offset + w.Length}) of region '{region.Id}'");
            }
            writes[i] = (region, w.Offset, w.Length);
        }
        return new AcceptedBatch(begin.BatchId, writes, begin.Notification, begin.Checksum);
    }

    private async ValueTask ReceiveChunkAsync(DataChunkMessage chunk, CancellationToken ct)
    {
        if (_backend is not { Capabilities.DataOverControlLink: true }) throw new TransferException(TransferErrorCode.Protocol, $"data frame on a '{_backend?.Name}' connection, whose data does not travel on the control link");
        if (!_batches.TryGetValue(chunk.BatchId, out var batch)) throw new TransferException(TransferErrorCode.Protocol, $"data for batch {chunk.BatchId}, which is not accepted");
        if ((uint)chunk.WriteIndex >= (uint)batch.Writes.Length) throw new TransferException(TransferErrorCode.Protocol, $"data for write {chunk.WriteIndex} of a batch of {batch.Writes.Length}");
        var (region, offset, length) = batch.Writes[chunk.WriteIndex];
        if (chunk.Length <= 0 || chunk.Length > connection.MaxFrameBytes || chunk.OffsetInWrite < 0 || chunk.OffsetInWrite > length - chunk.Length)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"data chunk [{chunk.OffsetInWrite}, +{chunk.Length}) does not fit write {chunk.WriteIndex} of {length} bytes");
        }
        await connection.ReadPayloadIntoAsync(region, offset + chunk.OffsetInWrite, chunk.Length, ct).ConfigureAwait(false);
        batch.ReceivedBytes += chunk.Length;
    }

    private async ValueTask CommitAsync(CommitMessage commit, CancellationToken ct)
    {
        if (!_batches.Remove(commit.BatchId, out var batch)) throw new TransferException(TransferErrorCode.Protocol, $"commit of batch {commit.BatchId}, which is not accepted");
        if (_backend!.Capabilities.DataOverControlLink && batch.ReceivedBytes != batch.TotalBytes)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"commit of batch {batch.Id} after {batch.ReceivedBytes} of {batch.TotalBytes} bytes");
        }
        await _link!.WaitPlacedAsync(batch.Id, ct).ConfigureAwait(false);
        if (batch.Checksum == ChecksumKind.XxHash3)
        {
            var actual = ChecksumCalculator.Compute(batch.Writes);
            if (actual != commit.Checksum)
            {
                await RejectAsync(batch.Id, new TransferException(TransferErrorCode.ChecksumMismatch,
                    $"batch {batch.Id}: XxHash3 of the {batch.TotalBytes} placed bytes is {actual:x16}, the initiator sent {commit.Checksum:x16}; no notification"), ct).ConfigureAwait(false);
                return;
            }
        }
        TransportMetrics.Received(_peer, _backend.Name, batch.TotalBytes);
        if (batch.Notification is { } payload)
        {
            await core.Notifications.Writer.WriteAsync(new TransferNotification(_peer, payload, batch.TotalBytes), ct).ConfigureAwait(false);
        }
        await connection.SendAsync(MessageType.Done, new BatchIdMessage { BatchId = batch.Id }, ct).ConfigureAwait(false);
    }

    private async ValueTask RejectAsync(long batchId, TransferException ex, CancellationToken ct)
    {
        TransportMetrics.Error("target", ex.Code);
        TransportLog.BatchRejected(core.Logger, batchId, _peer, ex.Code, ex.Detail);
        await connection.SendAsync(MessageType.Error, new ErrorMessage { BatchId = batchId, Code = ex.Code, Message = ex.Detail }, ct).ConfigureAwait(false);
    }

    private async ValueTask<Frame> ExpectAsync(MessageType type, CancellationToken ct)
    {
        var frame = await connection.ReadFrameAsync(ct).ConfigureAwait(false)
            ?? throw new TransferException(TransferErrorCode.PeerLost, $"peer closed the link before its {type}");
        if (frame.Type == MessageType.Error) throw frame.Read<ErrorMessage>().ToException();
        if (frame.Type != type) throw new TransferException(TransferErrorCode.Protocol, $"expected {type}, got {frame.Type}");
        return frame;
    }

    private async ValueTask TrySendFatalAsync(TransferException ex)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await connection.SendAsync(MessageType.Error, new ErrorMessage { Code = ex.Code, Message = ex.Detail }, timeout.Token).ConfigureAwait(false);
            connection.ShutdownSend();
            await connection.DrainAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TransferException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
