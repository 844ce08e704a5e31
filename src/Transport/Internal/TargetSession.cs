using MessagePack;
using Microsoft.Extensions.Logging;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport.Internal;

/// <summary>
/// The target side of one accepted connection: handshake, then one loop that validates batches, places tcp data,
/// verifies checksums and notifies. Any failure of this peer ends this session only; the agent keeps serving others.
/// </summary>
internal sealed partial class TargetSession(AgentCore core, ControlConnection connection)
{
    private const int MaxNotificationBytes = 64 << 10;

    /// <summary>Most grants one connection may hold open (published) at once; ended ones are pruned first.</summary>
    internal const int MaxOpenGrants = 4096;
    private readonly Dictionary<long, AcceptedBatch> _batches = new();

    /// <summary>Grants published on this connection (OpenGrant), by name; only the receive loop touches it.</summary>
    private readonly Dictionary<string, GrantWindow> _published = new(StringComparer.Ordinal);

    /// <summary>Batches refused after their data may already be on the way: their chunks are drained, their commit ignored.</summary>
    private readonly Dictionary<long, byte> _refused = new();
    private long _bytesInFlight;

    /// <summary>Batches done but not yet acknowledged: sent together (one Dones frame) before the loop next waits for the peer.</summary>
    private readonly List<long> _acks = new();

    /// <summary>The initiator reads Dones frames (its hello said so); otherwise one Done per batch.</summary>
    private bool _batchedDone;
    private string _peer = "(unauthenticated)";
    private ITransferBackend? _backend;
    private IBackendLink? _link;

    /// <summary>
    /// The whole session (handshake, then the loop) runs on a thread of its own that reads the socket synchronously
    /// (<see cref="ControlConnection.StartReceiveThread"/>): an arriving batch wakes this thread directly, never through the
    /// runtime's socket event thread and the thread pool.
    /// </summary>
    public Task RunAsync(CancellationToken stopping) =>
        connection.StartReceiveThread(() => SessionAsync(stopping), "pdrdma-target-rx", stopping);

    private async Task SessionAsync(CancellationToken stopping)
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
            if (ex.Code != TransferErrorCode.PeerLost)
            {
                // batches finished before the failure still get their acknowledgement, ahead of the error
                await TryFlushAcksAsync().ConfigureAwait(false);
                await TrySendFatalAsync(ex).ConfigureAwait(false);
            }
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
        // Until the peer proves it holds the secret it may send only small frames: a stranger cannot make this process
        // buffer megabytes (issue 11: 50 unauthenticated 4 MiB frames grew a target by 180 MB).
        connection.LimitFrames(core.Options.PreAuthFrameBytes);
        using var transcript = new HandshakeTranscript();
        var first = await ExpectAsync(MessageType.Hello, ct).ConfigureAwait(false);
        var version = first.Read<VersionProbe>().Version;
        if (version != core.ProtocolVersion)
        {
            throw new TransferException(TransferErrorCode.VersionMismatch, $"peer speaks protocol version {version}, target {core.Options.NodeId} speaks version {core.ProtocolVersion}");
        }
        var hello = first.Read<HelloMessage>();
        _batchedDone = hello.BatchedDone;
        _peer = string.IsNullOrWhiteSpace(hello.NodeId) ? "(unnamed)" : hello.NodeId;
        if (hello.Nonce.Length != ClusterAuth.NonceBytes) throw new TransferException(TransferErrorCode.Protocol, $"hello nonce of {hello.Nonce.Length} bytes, {ClusterAuth.NonceBytes} expected");
        transcript.Add(MessageType.Hello, first.Body.Span);

        var secret = core.Options.ClusterSecret;
        // Nothing about this target (node id, host id, proof, regions) goes out before the initiator proved itself.
        var mine = MessagePackSerializer.Serialize(new HelloMessage
        {
            Version = core.ProtocolVersion,
            NodeId = "",
            HostId = "",
            Nonce = ClusterAuth.NewNonce(),
            AuthRequired = secret is not null,
            DataMac = core.Options.AuthenticateData,
        }, WireFormat.Options);
        transcript.Add(MessageType.Hello, mine);
        await connection.SendRawAsync(MessageType.Hello, mine, ct).ConfigureAwait(false);

        var setupFrame = await ExpectAsync(MessageType.Setup, ct).ConfigureAwait(false);
        var setup = setupFrame.Read<SetupMessage>();
        if (secret is not null && !ClusterAuth.Matches(ClusterAuth.InitiatorProof(secret, transcript.Hash()), setup.Proof))
        {
            throw new TransferException(TransferErrorCode.Unauthenticated, $"peer '{_peer}' did not prove knowledge of the cluster secret");
        }
        transcript.Add(MessageType.Setup, setupFrame.Body.Span);
        if (core.Options.Layout is { } local && setup.Layout is { } remote) local.EnsureTranslatableTo(remote);

        var welcome = MessagePackSerializer.Serialize(new WelcomeMessage
        {
            Layout = core.Options.Layout,
            Backends = core.BackendNames,
            Regions = core.DescribeRegions(),
            Proof = secret is null ? null : ClusterAuth.TargetProof(secret, transcript.Hash()),
            NodeId = core.Options.NodeId,
            HostId = core.Options.HostId,
            DataMac = core.Options.AuthenticateData,
        }, WireFormat.Options);
        await connection.SendRawAsync(MessageType.Welcome, welcome, ct).ConfigureAwait(false);
        if (secret is not null)
        {
            transcript.Add(MessageType.Welcome, welcome);
            var (fromInitiator, toInitiator) = ClusterAuth.SessionKeys(secret, transcript.Hash());
            connection.StartAuthenticated(toInitiator, fromInitiator, core.Options.AuthenticateData && hello.DataMac);
        }
        connection.UnlimitFrames();

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
            Batches = _backend.Capabilities.CarriesBatches ? this : null,
        };
        _link = await _backend.AcceptAsync(context, ct).ConfigureAwait(false);
        TransportLog.Accepted(core.Logger, _peer, connection.RemoteEndPoint, _backend.Name, select.Reason);
    }

    private async Task ServeAsync(CancellationToken stopping)
    {
        // Accepted batches have a deadline: one the initiator never finishes is failed with Timeout and its later bytes
        // drained, so a stalled or hostile peer cannot pin state (or a grant's blocks) for ever.
        using var deadlines = new Timer(_ => ExpireOverdue(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        // A backend that carries batches on its own channel ends the session through Fail (a malformed record).
        using var channelFailed = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _channelFailed = channelFailed;
        if (_channelFault is not null) channelFailed.Cancel();
        try
        {
            while (true)
            {
                // about to wait for the peer: what is done is acknowledged first, all of it in one frame
                if (_acks.Count > 0 && !connection.HasBufferedFrame) await FlushAcksAsync(stopping).ConfigureAwait(false);
                if (await ReadFrameOrChannelFailureAsync(channelFailed.Token, stopping).ConfigureAwait(false) is not { } frame) break;
                switch (frame.Type)
                {
                    case MessageType.BatchBegin:
                        await BeginAsync(frame.Read<BatchBeginMessage>(), stopping).ConfigureAwait(false);
                        break;
                    case MessageType.DataChunk:
                        await ReceiveChunkAsync(frame.Read<DataChunkMessage>(), stopping).ConfigureAwait(false);
                        break;
                    case MessageType.DataRun:
                        await ReceiveRunAsync(frame.Read<DataRunMessage>(), stopping).ConfigureAwait(false);
                        break;
                    case MessageType.Commit:
                        await CommitAsync(frame.Read<CommitMessage>(), stopping).ConfigureAwait(false);
                        break;
                    case MessageType.OpenGrant:
                        await OpenGrantAsync(frame.Read<OpenGrantMessage>(), stopping).ConfigureAwait(false);
                        break;
                    case MessageType.Abort:
                        var id = frame.Read<BatchIdMessage>().BatchId;
                        lock (_batches)
                        {
                            if (_batches.Remove(id, out var aborted)) ReleaseInFlight(aborted);
                            _refused.Remove(id);
                        }
                        break;
                    default:
                        throw new TransferException(TransferErrorCode.Protocol, $"unexpected {frame.Type} frame from an established peer");
                }
            }
        }
        finally
        {
            lock (_batches)
            {
                foreach (var batch in _batches.Values) ReleaseInFlight(batch);
            }
        }
    }

    private async ValueTask BeginAsync(BatchBeginMessage begin, CancellationToken ct)
    {
        var limits = core.Options;
        lock (_batches)
        {
            if (_batches.ContainsKey(begin.BatchId) || _refused.ContainsKey(begin.BatchId)) throw new TransferException(TransferErrorCode.Protocol, $"batch id {begin.BatchId} is already in flight");
            if (_batches.Count + _refused.Count >= limits.MaxBatchesInFlight * 4)
            {
                TransportMetrics.Limit("batches_in_flight");
                throw new TransferException(TransferErrorCode.Protocol, $"more than {limits.MaxBatchesInFlight * 4} batches in flight");
            }
        }
        try
        {
            if (begin.Windowed && !_published.ContainsKey(begin.Grant!))
            {
                throw new TransferException(TransferErrorCode.Protocol, $"batch {begin.BatchId} is written under grant '{begin.Grant}', which was not opened on this connection");
            }
            var batch = Validate(begin);
            lock (_batches)
            {
                if (_bytesInFlight + batch.TotalBytes > limits.MaxBytesInFlightPerPeer)
                {
                    TransportMetrics.Limit("bytes_in_flight");
                    throw new TransferException(TransferErrorCode.PoolFull, $"batch {batch.Id} of {batch.TotalBytes} bytes would put {_bytesInFlight + batch.TotalBytes} bytes in flight from '{_peer}', at most {limits.MaxBytesInFlightPerPeer}; retry when earlier batches completed");
                }
                _bytesInFlight += batch.TotalBytes;
                TransportMetrics.InFlight(batch.TotalBytes);
                _batches.Add(batch.Id, batch);
            }
            // Version 2: tcp data follows the begin at once, and so do writes under a published grant window; only
            // batches an initiator writes into memory itself without a window still wait for this go-ahead.
            if (!_backend!.Capabilities.DataOverControlLink && !begin.Windowed)
            {
                await connection.SendAsync(MessageType.Proceed, new BatchIdMessage { BatchId = batch.Id }, ct).ConfigureAwait(false);
            }
        }
        catch (TransferException ex) when (ex.Code is not TransferErrorCode.Protocol)
        {
            lock (_batches) _refused[begin.BatchId] = 0;
            await RejectAsync(begin.BatchId, ex, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Answers an OpenGrant: asks the authorizer for the grant's window for this peer, checks it against the local
    /// regions, lets the backend publish it (verbs: memory windows; shm: the grant table) and sends the window with the
    /// backend's keys — or the typed reason it is refused (the connection stays usable).
    /// </summary>
    private async ValueTask OpenGrantAsync(OpenGrantMessage open, CancellationToken ct)
    {
        var reply = new GrantWindowMessage { RequestId = open.RequestId, Grant = open.Grant };
        try
        {
            if (!_backend!.Capabilities.GrantWindows)
            {
                throw new TransferException(TransferErrorCode.Unsupported, $"backend '{_backend.Name}' publishes no grant windows; name the grant in each batch instead");
            }
            var window = core.Options.Authorizer?.DescribeGrant(_peer, open.Grant);
            if (window is null || window.PeerNodeId != _peer || window.Grant != open.Grant || window.Ended.IsCancellationRequested)
            {
                throw new TransferException(TransferErrorCode.AccessDenied, $"peer '{_peer}' holds no live grant '{open.Grant}' on {core.Options.NodeId}");
            }
            if (window.Extents.Count is 0 or > GrantWindow.MaxExtents)
            {
                throw new TransferException(TransferErrorCode.PoolFull, $"grant '{open.Grant}' covers {window.Extents.Count} extents; a window holds 1 to {GrantWindow.MaxExtents}");
            }
            foreach (var e in window.Extents)
            {
                if (!core.Regions.TryGetValue(e.RegionId, out var region) || e.Offset < 0 || e.Length <= 0 || e.Offset > region.Length - e.Length)
                {
                    throw new TransferException(TransferErrorCode.OutOfBounds, $"grant '{open.Grant}' names [{e.Offset}, +{e.Length}) of region '{e.RegionId}', which is not inside a region registered here");
                }
                if (!_backend.Capabilities.MemoryKinds.Contains(region.Kind))
                {
                    throw new TransferException(TransferErrorCode.Unsupported, $"grant '{open.Grant}': backend '{_backend.Name}' cannot write {region.Kind} region '{region.Id}'");
                }
            }
            if (_published.Count >= MaxOpenGrants)
            {
                foreach (var ended in _published.Where(p => p.Value.Ended.IsCancellationRequested || p.Value.Expires <= DateTimeOffset.UtcNow).Select(p => p.Key).ToList()) _published.Remove(ended);
                if (_published.Count >= MaxOpenGrants)
                {
                    TransportMetrics.Limit("open_grants");
                    throw new TransferException(TransferErrorCode.PoolFull, $"peer '{_peer}' holds {MaxOpenGrants} open grants on this connection, the most allowed");
                }
            }
            var blob = await _link!.PublishGrantAsync(window, ct).ConfigureAwait(false);
            if (blob is { Length: > GrantWindowMessage.MaxBlobBytes })
            {
                throw new TransferException(TransferErrorCode.PoolFull, $"backend '{_backend.Name}' made {blob.Length} bytes of keys for grant '{open.Grant}', more than a window carries");
            }
            _published[open.Grant] = window;
            reply.Granted = true;
            reply.Extents = window.Extents.Select(e => new WireWrite { Region = e.RegionId, Offset = e.Offset, Length = e.Length }).ToArray();
            reply.ExpiresInMs = Math.Max(0, (long)(window.Expires - DateTimeOffset.UtcNow).TotalMilliseconds);
            reply.Blob = blob;
        }
        catch (TransferException ex) when (ex.Code is not TransferErrorCode.Protocol)
        {
            TransportMetrics.Error("target", ex.Code);
            TransportLog.GrantRefused(core.Logger, open.Grant, _peer, ex.Code, ex.Detail);
            reply.Code = ex.Code;
            reply.Message = ex.Detail;
        }
        await connection.SendAsync(MessageType.GrantWindow, reply, ct).ConfigureAwait(false);
    }

    /// <summary>Every write of the batch is checked before any is accepted: a rejected batch places nothing.</summary>
    private AcceptedBatch Validate(BatchBeginMessage begin)
    {
        var writes = ValidateWrites(begin.BatchId, begin.Grant, begin.Writes.Length, i => (begin.Writes[i].Region, begin.Writes[i].Offset, begin.Writes[i].Length),
            begin.Notification?.Length ?? 0, begin.Checksum);
        return new AcceptedBatch(begin.BatchId, writes, begin.Notification, begin.Checksum, begin.Grant, Environment.TickCount64 + (long)core.Options.BatchDeadline.TotalMilliseconds);
    }

    /// <summary>The checks of a begin, for a batch from the control link or from a backend's own channel.</summary>
    private (IMemoryRegion Region, long Offset, long Length)[] ValidateWrites(long batchId, string? grant, int writeCount,
        Func<int, (string Region, long Offset, long Length)> write, int notificationBytes, ChecksumKind checksum)
    {
        if (batchId < 0) throw new TransferException(TransferErrorCode.Protocol, $"negative batch id {batchId}");
        if (!Enum.IsDefined(checksum)) throw new TransferException(TransferErrorCode.Unsupported, $"unknown checksum kind {(int)checksum}");
        if (notificationBytes > MaxNotificationBytes) throw new TransferException(TransferErrorCode.Protocol, $"notification of {notificationBytes} bytes, at most {MaxNotificationBytes}");
        if (writeCount > core.Options.MaxWritesPerBatch)
        {
            TransportMetrics.Limit("writes_per_batch");
            throw new TransferException(TransferErrorCode.PoolFull, $"batch {batchId} has {writeCount} writes, at most {core.Options.MaxWritesPerBatch}");
        }
        var writes = new (IMemoryRegion, long, long)[writeCount];
        string? lastName = null;
        IMemoryRegion? lastRegion = null;
        IMemoryRegion? region;
        for (var i = 0; i < writes.Length; i++)
        {
            var w = write(i);
            // thousands of KV blocks name one region: a name seen just before is not looked up again
            if (ReferenceEquals(w.Region, lastName) && lastRegion is not null) region = lastRegion;
            else if (core.Regions.TryGetValue(w.Region, out region)) (lastName, lastRegion) = (w.Region, region);
            else
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
            if (core.Options.Authorizer is { } authorizer && !authorizer.CanWrite(_peer, grant, region.Id, w.Offset, w.Length))
            {
                throw new TransferException(TransferErrorCode.AccessDenied, $"write {i}: peer '{_peer}' holds no live grant{(grant is null ? "" : $" '{grant}'")} on [{w.Offset}, {w.Offset + w.Length}) of region '{region.Id}'");
            }
            writes[i] = (region, w.Offset, w.Length);
        }
        return writes;
    }

    private void RequireDataOnControlLink()
    {
        if (_backend is not { Capabilities.DataOverControlLink: true }) throw new TransferException(TransferErrorCode.Protocol, $"data frame on a '{_backend?.Name}' connection, whose data does not travel on the control link");
    }

    /// <summary>
    /// The accepted batch that <paramref name="length"/> payload bytes on the link belong to; null when the batch was
    /// refused (at its begin, or since: its grant ended, its deadline passed) — its bytes still on the way then go to a
    /// scratch buffer, the region stays as it was, and the connection stays usable. Data for a batch never begun is a
    /// protocol error.
    /// </summary>
    private async ValueTask<AcceptedBatch?> AcceptedForDataAsync(long batchId, int length, CancellationToken ct)
    {
        AcceptedBatch? batch;
        bool refused;
        lock (_batches)
        {
            refused = _refused.ContainsKey(batchId);
            _batches.TryGetValue(batchId, out batch);
        }
        if (refused)
        {
            await connection.DrainPayloadAsync(length, ct).ConfigureAwait(false);
            return null;
        }
        return batch ?? throw new TransferException(TransferErrorCode.Protocol, $"data for batch {batchId}, which is not accepted");
    }

    private async ValueTask ReceiveChunkAsync(DataChunkMessage chunk, CancellationToken ct)
    {
        RequireDataOnControlLink();
        if (chunk.Length <= 0 || chunk.Length > connection.MaxFrameBytes) throw new TransferException(TransferErrorCode.Protocol, $"data chunk of {chunk.Length} bytes");
        await FlushAcksBeforeWaitingAsync(chunk.Length, ct).ConfigureAwait(false);
        if (await AcceptedForDataAsync(chunk.BatchId, chunk.Length, ct).ConfigureAwait(false) is not { } batch) return;
        if ((uint)chunk.WriteIndex >= (uint)batch.Writes.Length) throw new TransferException(TransferErrorCode.Protocol, $"data for write {chunk.WriteIndex} of a batch of {batch.Writes.Length}");
        var (region, offset, length) = batch.Writes[chunk.WriteIndex];
        if (chunk.OffsetInWrite < 0 || chunk.OffsetInWrite > length - chunk.Length)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"data chunk [{chunk.OffsetInWrite}, +{chunk.Length}) does not fit write {chunk.WriteIndex} of {length} bytes");
        }
        // The grant is checked again where the bytes land: a lease released or expired since the begin refuses the
        // rest of the batch (issue 11: bytes sent 3 s after their lease expired were placed).
        if (core.Options.Authorizer is { } authorizer && !authorizer.CanWrite(_peer, batch.Grant, region.Id, offset + chunk.OffsetInWrite, chunk.Length))
        {
            await connection.DrainPayloadAsync(chunk.Length, ct).ConfigureAwait(false);
            await CancelAsync(batch, new TransferException(TransferErrorCode.AccessDenied,
                $"batch {batch.Id}: the grant{(batch.Grant is null ? "" : $" '{batch.Grant}'")} on [{offset + chunk.OffsetInWrite}, +{chunk.Length}) of region '{region.Id}' ended before its bytes landed; the rest of the batch is refused"), ct).ConfigureAwait(false);
            return;
        }
        await connection.ReadPayloadIntoAsync(region, offset + chunk.OffsetInWrite, chunk.Length, ct).ConfigureAwait(false);
        batch.ReceivedBytes += chunk.Length;
    }

    /// <summary>
    /// Several whole writes back to back: read into a staging buffer, authenticated as a whole, then each write checked
    /// against its grant and copied into place (the one copy small writes get; no per-write frame, header or MAC).
    /// </summary>
    private async ValueTask ReceiveRunAsync(DataRunMessage run, CancellationToken ct)
    {
        RequireDataOnControlLink();
        if (run.Length <= 0 || run.Length > Math.Min(1 << 20, connection.MaxFrameBytes)) throw new TransferException(TransferErrorCode.Protocol, $"data run of {run.Length} bytes");
        await FlushAcksBeforeWaitingAsync(run.Length, ct).ConfigureAwait(false);
        if (await AcceptedForDataAsync(run.BatchId, run.Length, ct).ConfigureAwait(false) is not { } batch) return;
        if (run.FirstWrite < 0 || run.Count <= 0 || run.FirstWrite > batch.Writes.Length - run.Count) throw new TransferException(TransferErrorCode.Protocol, $"data run of writes [{run.FirstWrite}, +{run.Count}) in a batch of {batch.Writes.Length}");
        long sum = 0;
        for (var i = run.FirstWrite; i < run.FirstWrite + run.Count; i++) sum += batch.Writes[i].Length;
        if (sum != run.Length) throw new TransferException(TransferErrorCode.Protocol, $"data run announces {run.Length} bytes for writes holding {sum}");
        var staging = System.Buffers.ArrayPool<byte>.Shared.Rent(run.Length);
        try
        {
            await connection.ReadRunAsync(staging.AsMemory(0, run.Length), ct).ConfigureAwait(false);
            var at = 0;
            for (var i = run.FirstWrite; i < run.FirstWrite + run.Count; i++)
            {
                var (region, offset, length) = batch.Writes[i];
                if (core.Options.Authorizer is { } authorizer && !authorizer.CanWrite(_peer, batch.Grant, region.Id, offset, length))
                {
                    await CancelAsync(batch, new TransferException(TransferErrorCode.AccessDenied,
                        $"batch {batch.Id}: the grant{(batch.Grant is null ? "" : $" '{batch.Grant}'")} on [{offset}, +{length}) of region '{region.Id}' ended before its bytes landed; the rest of the batch is refused"), ct).ConfigureAwait(false);
                    return;
                }
                staging.AsSpan(at, (int)length).CopyTo(RegionMemory.Span(region, offset, (int)length));
                at += (int)length;
                batch.ReceivedBytes += length;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(staging);
        }
    }

    private async ValueTask CommitAsync(CommitMessage commit, CancellationToken ct)
    {
        AcceptedBatch? batch;
        lock (_batches)
        {
            // The error for a refused batch went out already; its commit just closes it.
            if (_refused.Remove(commit.BatchId)) return;
            if (!_batches.Remove(commit.BatchId, out batch)) throw new TransferException(TransferErrorCode.Protocol, $"commit of batch {commit.BatchId}, which is not accepted");
            ReleaseInFlight(batch);
        }
        if (_backend!.Capabilities.DataOverControlLink && batch.ReceivedBytes != batch.TotalBytes)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"commit of batch {batch.Id} after {batch.ReceivedBytes} of {batch.TotalBytes} bytes");
        }
        await _link!.WaitPlacedAsync(batch.Id, ct).ConfigureAwait(false);
        if (_link is IPlacedWritesHook placed)
        {
            try { placed.OnPlaced(batch.Writes); }
            catch (TransferException ex) { await RejectAsync(batch.Id, ex, ct).ConfigureAwait(false); return; }
        }
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
        if (!_batchedDone)
        {
            await connection.SendAsync(MessageType.Done, new BatchIdMessage { BatchId = batch.Id }, ct).ConfigureAwait(false);
            return;
        }
        _acks.Add(batch.Id);
        if (_acks.Count >= DoneListMessage.MaxBatches) await FlushAcksAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Acknowledges the batches done since the last flush: one Done, or one Dones frame for several.</summary>
    private async ValueTask FlushAcksAsync(CancellationToken ct)
    {
        if (_acks.Count == 1)
        {
            var id = _acks[0];
            _acks.Clear();
            await connection.SendAsync(MessageType.Done, new BatchIdMessage { BatchId = id }, ct).ConfigureAwait(false);
            return;
        }
        var ids = _acks.ToArray();
        _acks.Clear();
        await connection.SendAsync(MessageType.Dones, new DoneListMessage { BatchIds = ids }, ct).ConfigureAwait(false);
    }

    private async ValueTask TryFlushAcksAsync()
    {
        if (_acks.Count == 0) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await FlushAcksAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TransferException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Before a payload that is not all here yet: acknowledge what is done rather than hold it for the transfer.</summary>
    private ValueTask FlushAcksBeforeWaitingAsync(long payloadBytes, CancellationToken ct) =>
        _acks.Count > 0 && !connection.HasBuffered(payloadBytes + (connection.DataAuthenticated ? FrameMac.TagBytes : 0))
            ? FlushAcksAsync(ct)
            : ValueTask.CompletedTask;

    /// <summary>Moves an accepted batch to the refused set (its later bytes are drained) and tells the initiator.</summary>
    private async ValueTask CancelAsync(AcceptedBatch batch, TransferException why, CancellationToken ct)
    {
        lock (_batches)
        {
            if (!_batches.Remove(batch.Id)) return;
            ReleaseInFlight(batch);
            _refused[batch.Id] = 0;
        }
        await RejectAsync(batch.Id, why, ct).ConfigureAwait(false);
    }

    private void ReleaseInFlight(AcceptedBatch batch)
    {
        _bytesInFlight -= batch.TotalBytes;
        TransportMetrics.InFlight(-batch.TotalBytes);
    }

    private void ExpireOverdue()
    {
        List<AcceptedBatch> overdue;
        var now = Environment.TickCount64;
        lock (_batches)
        {
            overdue = _batches.Values.Where(b => b.DeadlineTicks <= now).ToList();
        }
        foreach (var batch in overdue)
        {
            TransportMetrics.Limit("batch_deadline");
            _ = CancelAsync(batch, new TransferException(TransferErrorCode.Timeout,
                $"batch {batch.Id} from '{_peer}' did not finish within {core.Options.BatchDeadline.TotalSeconds:0.#} s of its begin; refused"), connection.Lifetime).AsTask()
                .ContinueWith(t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }
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
