using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Internal;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport;

/// <summary>
/// An initiator's connection to one peer agent, made by <see cref="TransferAgent.ConnectAsync"/>. Thread-safe: several
/// batches may be written at once (up to <see cref="TransferAgentOptions.MaxBatchesInFlight"/>, then callers wait).
/// Once the peer is lost every pending and later write faults with PeerLost.
/// </summary>
public sealed class PeerConnection : IAsyncDisposable
{
    private readonly ControlConnection _connection;
    private readonly IBackendLink _link;
    private readonly AgentCore _core;
    private readonly Dictionary<string, RegionDescriptor> _remote;
    private readonly ConcurrentDictionary<long, PendingBatch> _pending = new();
    private readonly SemaphoreSlim _inFlight;
    private readonly Task _receiveLoop;

    /// <summary>The data goes right behind the begin, no proceed round trip (tcp: the target checks as bytes land).</summary>
    private readonly bool _oneSided;

    /// <summary>The backend publishes grant windows: a batch naming a grant opens it once and then writes without a proceed.</summary>
    private readonly bool _grantWindows;

    /// <summary>The backend carries whole batches on its own channel (shm): no frame per batch on the control link.</summary>
    private readonly bool _carriesBatches;
    private readonly ConcurrentDictionary<string, OpenedGrant> _grants = new(StringComparer.Ordinal);

    /// <summary>The peer answered an OpenGrant with Unsupported: its side publishes no windows, so batches use the proceed flow.</summary>
    private volatile bool _peerWithoutWindows;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<GrantWindowMessage>> _opening = new();
    private long _nextOpenId;
    private long _nextBatchId;
    private volatile TransferException? _fault;
    private int _disposed;

    /// <summary>Set by the agent, so that it forgets connections the caller disposed.</summary>
    internal Action<PeerConnection>? OnDisposed { get; set; }

    internal PeerConnection(AgentCore core, ControlConnection connection, IBackendLink link, string peerNodeId, string peerHostId,
        string backend, string reason, IReadOnlyList<RegionDescriptor> remoteRegions, bool oneSided, bool grantWindows = false, bool carriesBatches = false)
    {
        _core = core;
        _oneSided = oneSided;
        _grantWindows = grantWindows;
        _carriesBatches = carriesBatches;
        _connection = connection;
        _link = link;
        PeerNodeId = peerNodeId;
        PeerHostId = peerHostId;
        Backend = backend;
        BackendReason = reason;
        RemoteRegions = remoteRegions;
        _remote = remoteRegions.GroupBy(r => r.RegionId).ToDictionary(g => g.Key, g => g.First());
        _inFlight = new SemaphoreSlim(core.Options.MaxBatchesInFlight);
        // its own thread, reading the socket synchronously: a Done wakes it directly and completes the writer there
        _receiveLoop = connection.StartReceiveThread(ReceiveLoopAsync, "pdrdma-initiator-rx", CancellationToken.None);
    }

    public string PeerNodeId { get; }

    public string PeerHostId { get; }

    /// <summary>"shm" | "tcp" | "verbs".</summary>
    public string Backend { get; }

    /// <summary>Why <see cref="Backend"/> was chosen, in words (also logged at connect).</summary>
    public string BackendReason { get; }

    public IReadOnlyList<RegionDescriptor> RemoteRegions { get; }

    /// <summary>True until the peer is lost or this connection is disposed.</summary>
    public bool IsConnected => _fault is null;

    /// <summary>
    /// Writes the batch (adjacent writes coalesced) and completes once every byte is placed on the target, the checksum
    /// (when asked) matched there and the notification (when set) was delivered. Faults with <see cref="TransferException"/>:
    /// UnknownRegion/OutOfBounds for local sources (nothing sent); the target's typed refusal (nothing placed);
    /// ChecksumMismatch; PeerLost. Cancelling abandons the batch: its target bytes are then undefined and nothing is notified
    /// (on a backend that carries whole batches, shm, a batch already posted on its channel still completes there).
    /// The returned task usually completes on the connection's receive thread, and the caller's continuation runs there
    /// until it next awaits (no thread-pool hop on the latency path): do long or blocking work after an await of
    /// something else (or <c>await Task.Yield()</c>), not straight after this call, or the connection's later
    /// acknowledgements wait for it.
    /// On a backend with grant windows a batch naming a grant opens it on first use (one round trip per grant) and then
    /// writes at once; a write outside the window is refused here with AccessDenied before anything is sent.
    /// </summary>
    public async Task WriteAsync(WriteBatch batch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ThrowIfFaulted();
        var ops = ExtentCoalescer.Coalesce(batch.Ops);
        var planned = Plan(ops);
        ulong checksum = batch.Checksum == ChecksumKind.XxHash3
            ? ChecksumCalculator.Compute(planned.Select(w => (w.Source, w.SourceOffset, w.Length)))
            : 0;

        OpenedGrant? opened = null;
        if (_grantWindows && !_peerWithoutWindows && batch.Grant is { } grant)
        {
            try
            {
                opened = await OpenGrantAsync(grant, ct).ConfigureAwait(false);
            }
            catch (TransferException ex) when (ex.Code == TransferErrorCode.Unsupported)
            {
                // A peer whose device has no windows (verbs without memory windows on that side): every batch on this
                // connection then waits for the target's go-ahead instead (per-batch validation).
                _peerWithoutWindows = true;
                TransportLog.WindowsUnsupported(_core.Logger, PeerNodeId, ex.Detail);
            }
        }
        if (opened is not null)
        {
            var window = opened.Window.Result;
            foreach (var w in planned)
            {
                if (!window.Covers(w.Target.RegionId, w.TargetOffset, w.Length))
                {
                    throw new TransferException(TransferErrorCode.AccessDenied,
                        $"write {w.Index}: [{w.TargetOffset}, +{w.Length}) of region '{w.Target.RegionId}' is outside grant '{batch.Grant}' as {PeerNodeId} published it; nothing sent");
                }
            }
        }
        var windowed = opened is not null;

        await _inFlight.WaitAsync(ct).ConfigureAwait(false);
        var id = Interlocked.Increment(ref _nextBatchId);
        var pending = new PendingBatch();
        _pending[id] = pending;
        var began = false;
        var started = Stopwatch.GetTimestamp();
        try
        {
            ThrowIfFaulted();
            var plannedBatch = new PlannedBatch(id, planned, planned.Sum(w => w.Length))
            {
                Grant = windowed ? batch.Grant : null, Notification = batch.Notification, Checksum = batch.Checksum, ChecksumValue = checksum,
            };
            _core.Options.AfterChecksumForTests?.Invoke(plannedBatch);
            if (_carriesBatches && _link.CanCarry(plannedBatch))
            {
                await _link.CarryAsync(plannedBatch, ct).ConfigureAwait(false);
                TransportMetrics.Written(PeerNodeId, Backend, plannedBatch.TotalBytes, Stopwatch.GetElapsedTime(started).TotalSeconds);
                return;
            }
            await _connection.SendAsync(MessageType.BatchBegin, new BatchBeginMessage
            {
                BatchId = id,
                Writes = planned.Select(w => new WireWrite { Region = w.Target.RegionId, Offset = w.TargetOffset, Length = w.Length }).ToArray(),
                Notification = batch.Notification,
                Checksum = batch.Checksum,
                Grant = batch.Grant,
                Windowed = windowed,
            }, ct, flush: !_oneSided && !windowed).ConfigureAwait(false);
            began = true;
            if (!_oneSided && !windowed) await pending.Proceed.Task.WaitAsync(ct).ConfigureAwait(false);
            await _link.WriteAsync(plannedBatch, ct).ConfigureAwait(false);
            await _connection.SendAsync(MessageType.Commit, new CommitMessage { BatchId = id, Checksum = checksum }, ct).ConfigureAwait(false);
            await pending.Done.Task.WaitAsync(ct).ConfigureAwait(false);
            TransportMetrics.Written(PeerNodeId, Backend, plannedBatch.TotalBytes, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested && began && _fault is null)
        {
            await TryAbortAsync(id).ConfigureAwait(false);
            throw;
        }
        catch (TransferException ex)
        {
            TransportMetrics.Error("initiator", ex.Code);
            // A window the target (or its NIC) refused is not used again: the next batch asks for the grant afresh.
            if (opened is not null && ex.Code == TransferErrorCode.AccessDenied) ForgetGrant(batch.Grant!, opened);
            // A local failure after the begin (a region file refused, ...): the target forgets the batch at once.
            if (began && ex.Code != TransferErrorCode.PeerLost && _fault is null) await TryAbortAsync(id).ConfigureAwait(false);
            // A send that found the link dead may beat the receive loop to it: the connection is lost either way.
            if (ex.Code == TransferErrorCode.PeerLost) Fault(ex);
            throw;
        }
        finally
        {
            _pending.TryRemove(id, out _);
            _inFlight.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Fault(new TransferException(TransferErrorCode.PeerLost, $"connection to {PeerNodeId} was closed locally"));
        await _connection.DisposeAsync().ConfigureAwait(false);
        try { await _receiveLoop.ConfigureAwait(false); } catch (Exception ex) when (ex is TransferException or OperationCanceledException) { }
        await _link.DisposeAsync().ConfigureAwait(false);
        TransportMetrics.Forget(PeerNodeId, sent: true);
        OnDisposed?.Invoke(this);
    }

    /// <summary>
    /// The live window of <paramref name="grant"/>: cached, or asked of the target (OpenGrant → GrantWindow, one round
    /// trip) and handed to the backend. A window that ended here is asked for once more; the target's refusal is thrown.
    /// </summary>
    private async Task<OpenedGrant> OpenGrantAsync(string grant, CancellationToken ct)
    {
        if (grant.Length is 0 or > OpenGrantMessage.MaxGrantChars)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"grant name of {grant.Length} characters (1 to {OpenGrantMessage.MaxGrantChars})");
        }
        for (var attempt = 0; ; attempt++)
        {
            ThrowIfFaulted();
            if (!_grants.TryGetValue(grant, out var opened))
            {
                if (_grants.Count >= TargetSession.MaxOpenGrants)
                {
                    foreach (var stale in _grants.Where(g => g.Value.Window.IsCompleted && !g.Value.IsLive).ToList()) ForgetGrant(stale.Key, stale.Value);
                }
                var ended = new CancellationTokenSource();
                var fresh = new OpenedGrant(RequestWindowAsync(grant, ended), ended);
                opened = _grants.GetOrAdd(grant, fresh);
                if (!ReferenceEquals(opened, fresh)) fresh.End();
            }
            try
            {
                await opened.Window.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (TransferException)
            {
                ForgetGrant(grant, opened);
                throw;
            }
            if (opened.IsLive) return opened;
            ForgetGrant(grant, opened);
            if (attempt > 0) throw new TransferException(TransferErrorCode.AccessDenied, $"grant '{grant}' of {PeerNodeId} ended");
        }
    }

    private async Task<GrantWindow> RequestWindowAsync(string grant, CancellationTokenSource ended)
    {
        var id = Interlocked.Increment(ref _nextOpenId);
        var answer = new TaskCompletionSource<GrantWindowMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _opening[id] = answer;
        try
        {
            ThrowIfFaulted();
            await _connection.SendAsync(MessageType.OpenGrant, new OpenGrantMessage { RequestId = id, Grant = grant }, _connection.Lifetime).ConfigureAwait(false);
            var reply = await answer.Task.WaitAsync(_core.Options.BatchDeadline).ConfigureAwait(false);
            if (!reply.Granted) throw reply.ToException();
            if (reply.Grant != grant) throw new TransferException(TransferErrorCode.Protocol, $"asked for grant '{grant}', {PeerNodeId} answered for '{reply.Grant}'");
            var extents = GrantWindow.Normalize(reply.Extents.Select(e => new GrantExtent(e.Region, e.Offset, e.Length)));
            ended.CancelAfter(TimeSpan.FromMilliseconds(Math.Min(reply.ExpiresInMs, (long)TimeSpan.FromDays(1).TotalMilliseconds)));
            var window = new GrantWindow(grant, PeerNodeId, extents, DateTimeOffset.UtcNow.AddMilliseconds(reply.ExpiresInMs), ended.Token);
            _link.AcceptGrant(window, reply.Blob);
            return window;
        }
        catch (TimeoutException)
        {
            throw new TransferException(TransferErrorCode.Timeout, $"{PeerNodeId} did not answer for grant '{grant}' within {_core.Options.BatchDeadline.TotalSeconds:0.#} s");
        }
        finally
        {
            _opening.TryRemove(id, out _);
        }
    }

    private void ForgetGrant(string grant, OpenedGrant opened)
    {
        _grants.TryRemove(KeyValuePair.Create(grant, opened));
        opened.End();
    }

    private List<PlannedWrite> Plan(IReadOnlyList<WriteOp> ops)
    {
        var planned = new List<PlannedWrite>(ops.Count);
        IMemoryRegion? lastSource = null;
        RegionDescriptor? lastTarget = null;
        for (var i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            // a KV batch names the same two regions thousands of times: the names just seen are not looked up again
            IMemoryRegion? source;
            if (ReferenceEquals(op.SourceRegion, lastSource?.Id) || op.SourceRegion == lastSource?.Id) source = lastSource;
            else if (_core.Regions.TryGetValue(op.SourceRegion, out source)) lastSource = source;
            else
            {
                throw new TransferException(TransferErrorCode.UnknownRegion, $"source region '{op.SourceRegion}' is not registered on {_core.Options.NodeId}");
            }
            if (op.Length <= 0 || op.SourceOffset < 0 || op.SourceOffset > source.Length - op.Length)
            {
                throw new TransferException(TransferErrorCode.OutOfBounds, $"source [{op.SourceOffset}, {op.SourceOffset + op.Length}) is outside region '{source.Id}' of {source.Length} bytes");
            }
            // The target decides about its own regions; an unknown name is passed on so that its refusal is the one answer.
            var target = lastTarget is not null && (ReferenceEquals(op.TargetRegion, lastTarget.RegionId) || op.TargetRegion == lastTarget.RegionId)
                ? lastTarget
                : _remote.TryGetValue(op.TargetRegion, out var known)
                    ? lastTarget = known
                    : new RegionDescriptor { NodeId = PeerNodeId, RegionId = op.TargetRegion, Length = 0, Kind = MemoryKind.Host };
            planned.Add(new PlannedWrite(i, source, op.SourceOffset, target, op.TargetOffset, op.Length));
        }
        return planned;
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (await _connection.ReadFrameAsync(_connection.Lifetime).ConfigureAwait(false) is { } frame)
            {
                switch (frame.Type)
                {
                    case MessageType.Proceed:
                        if (_pending.TryGetValue(frame.Read<BatchIdMessage>().BatchId, out var proceeding)) proceeding.Proceed.TrySetResult();
                        break;
                    case MessageType.Done:
                        if (_pending.TryGetValue(frame.Read<BatchIdMessage>().BatchId, out var done)) done.Done.TrySetResult();
                        break;
                    case MessageType.Dones:
                        foreach (var batchId in frame.Read<DoneListMessage>().BatchIds)
                        {
                            if (_pending.TryGetValue(batchId, out var listed)) listed.Done.TrySetResult();
                        }
                        break;
                    case MessageType.GrantWindow:
                        var window = frame.Read<GrantWindowMessage>();
                        if (_opening.TryRemove(window.RequestId, out var opening)) opening.TrySetResult(window);
                        break;
                    case MessageType.Error:
                        var error = frame.Read<ErrorMessage>();
                        if (error.BatchId == ErrorMessage.Connection)
                        {
                            Fault(error.ToException());
                            return;
                        }
                        if (_pending.TryGetValue(error.BatchId, out var failed)) failed.Fail(error.ToException());
                        break;
                    default:
                        throw new TransferException(TransferErrorCode.Protocol, $"unexpected {frame.Type} frame from target {PeerNodeId}");
                }
            }
            Fault(new TransferException(TransferErrorCode.PeerLost, $"peer {PeerNodeId} closed the connection"));
        }
        catch (TransferException ex)
        {
            Fault(ex.Code == TransferErrorCode.Protocol ? ex : new TransferException(TransferErrorCode.PeerLost, $"peer {PeerNodeId} lost: {ex.Detail}", ex));
        }
        catch (OperationCanceledException)
        {
            Fault(new TransferException(TransferErrorCode.PeerLost, $"connection to {PeerNodeId} was closed locally"));
        }
    }

    private void Fault(TransferException ex)
    {
        if (_fault is null)
        {
            _fault = ex;
            if (ex.Code != TransferErrorCode.PeerLost || _disposed == 0) TransportLog.ConnectionFailed(_core.Logger, PeerNodeId, ex.Code, ex.Detail);
        }
        foreach (var pending in _pending.Values) pending.Fail(_fault);
        _link.Fail(_fault);
        foreach (var opening in _opening.Values) opening.TrySetException(_fault);
        foreach (var grant in _grants) ForgetGrant(grant.Key, grant.Value);
    }

    private void ThrowIfFaulted()
    {
        if (_fault is { } fault) throw new TransferException(fault.Code, fault.Detail, fault);
    }

    private async ValueTask TryAbortAsync(long id)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _connection.SendAsync(MessageType.Abort, new BatchIdMessage { BatchId = id }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TransferException or OperationCanceledException)
        {
        }
    }
}
