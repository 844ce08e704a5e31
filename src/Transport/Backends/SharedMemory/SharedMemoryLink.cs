using System.Collections.Concurrent;
using PdRdma.Transport.Backends.SharedMemory.Internal;
using PdRdma.Transport.Internal;

namespace PdRdma.Transport.Backends.SharedMemory;

/// <summary>
/// Initiator: the peer's region files, mapped on first use and kept for the connection's life, and the connection's
/// channel. A batch the channel can carry is checked here against what the target published (its region bounds, and
/// for a grant the live flag in the shared grant table), copied, and posted as one record: no socket on its way.
/// </summary>
internal sealed class SharedMemoryLink : IBackendLink
{
    private readonly IReadOnlyDictionary<string, RegionDescriptor> _remote;
    private readonly InitiatorChannel? _channel;
    private readonly Dictionary<string, int> _index;
    private readonly ConcurrentDictionary<string, Lazy<HostRegion>> _mapped = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (int Slot, long Generation)> _grantSlots = new(StringComparer.Ordinal);
    private readonly string _peer;

    /// <summary>The mapped target regions by channel index, filled on first use (a lookup per write costs more than the copy of a small block).</summary>
    private readonly HostRegion?[] _byIndex;
    private int _disposed;

    private const long YieldBytes = 1 << 20;

    public SharedMemoryLink(IReadOnlyDictionary<string, RegionDescriptor> remote, InitiatorChannel? channel, IReadOnlyList<string> regionNames, string peer)
    {
        _remote = remote;
        _channel = channel;
        _peer = peer;
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < regionNames.Count; i++) _index[regionNames[i]] = i;
        _byIndex = new HostRegion?[regionNames.Count];
    }

    public ValueTask WriteAsync(PlannedBatch batch, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        foreach (var write in batch.Writes)
        {
            ct.ThrowIfCancellationRequested();
            var target = Map(write.Target.RegionId);
            RegionMemory.Copy(write.Source, write.SourceOffset, target, write.TargetOffset, write.Length);
        }
        return ValueTask.CompletedTask;
    }

    // The initiator's copy finished before it sent the commit; the commit's socket round trip orders it for this process.
    public ValueTask WaitPlacedAsync(long batchId, CancellationToken ct) => ValueTask.CompletedTask;

    public void AcceptGrant(GrantWindow window, byte[]? blob)
    {
        if (GrantSlotBlob.Read(blob) is { } entry) _grantSlots[window.Grant] = entry;
    }

    /// <summary>
    /// On the channel: batches whose record fits the ring, whose regions the target offered as files, and which either
    /// name a grant the target entered in the table or go to a target that checks no grants. Anything else takes the
    /// control link, where the target checks it before any byte moves.
    /// </summary>
    public bool CanCarry(PlannedBatch batch)
    {
        if (_channel is null || _disposed != 0) return false;
        if (InitiatorChannel.RecordBytes(batch.Writes.Count, batch.Notification?.Length ?? 0) > _channel.MaxRecordBytes) return false;
        if (batch.Writes.Count > _channel.MaxWritesPerBatch || batch.TotalBytes > _channel.MaxBatchBytes) return false;
        if (batch.Grant is { } grant ? !_grantSlots.ContainsKey(grant) : _channel.RequiresGrant) return false;
        string? known = null;
        foreach (var write in batch.Writes)
        {
            // KV batches name one region thousands of times: look each distinct name up once
            if (ReferenceEquals(write.Target.RegionId, known)) continue;
            if (!_index.ContainsKey(write.Target.RegionId)) return false;
            known = write.Target.RegionId;
        }
        return true;
    }

    public async ValueTask CarryAsync(PlannedBatch batch, CancellationToken ct)
    {
        var channel = _channel ?? throw new TransferException(TransferErrorCode.Unsupported, "shm: this connection has no channel");
        // A large batch is milliseconds of copying: the caller gets its task back first, as it would from real I/O.
        // Small ones are copied and posted on the caller's thread (the latency path).
        if (batch.TotalBytes >= YieldBytes) await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
        ct.ThrowIfCancellationRequested();
        var slot = -1;
        var generation = 0L;
        if (batch.Grant is { } grant)
        {
            if (!_grantSlots.TryGetValue(grant, out var entry) || !channel.IsLive(entry.Slot, entry.Generation))
            {
                _grantSlots.TryRemove(grant, out _);
                throw new TransferException(TransferErrorCode.AccessDenied, $"grant '{grant}' is no longer live in {_peer}'s shared grant table (it ended or expired); nothing copied");
            }
            (slot, generation) = entry;
        }
        // every write checked before the first byte moves: a refused batch changes nothing
        var writes = new (int Region, long Offset, long Length)[batch.Writes.Count];
        string? lastName = null;
        var lastIndex = -1;
        for (var i = 0; i < writes.Length; i++)
        {
            var w = batch.Writes[i];
            var length = w.Target.Length;
            if (w.Length <= 0 || w.TargetOffset < 0 || w.TargetOffset > length - w.Length)
            {
                throw new TransferException(TransferErrorCode.OutOfBounds, $"write {i}: [{w.TargetOffset}, {w.TargetOffset + w.Length}) is outside region '{w.Target.RegionId}' of {length} bytes; nothing copied");
            }
            if (!ReferenceEquals(w.Target.RegionId, lastName)) (lastName, lastIndex) = (w.Target.RegionId, _index[w.Target.RegionId]);
            writes[i] = (lastIndex, w.TargetOffset, w.Length);
        }
        CopyAll(batch, writes);
        var carried = channel.Post(batch.BatchId, writes, batch.Notification, batch.Checksum == ChecksumKind.XxHash3, batch.ChecksumValue, slot, generation, ct);
        await channel.WaitAsync(carried, ct).ConfigureAwait(false);
    }

    private void CopyAll(PlannedBatch batch, (int Region, long Offset, long Length)[] writes)
    {
        for (var i = 0; i < writes.Length; i++)
        {
            var w = batch.Writes[i];
            var target = _byIndex[writes[i].Region] ??= Map(w.Target.RegionId);
            StreamingCopy.Copy(w.Source, w.SourceOffset, target, w.TargetOffset, w.Length);
        }
        // the streaming stores are visible before the record that announces them
        StreamingCopy.Fence();
    }

    public void Fail(TransferException reason) => _channel?.Fail(reason);

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _channel?.Dispose();
            foreach (var region in _mapped.Values.Where(l => l.IsValueCreated)) region.Value.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    private HostRegion Map(string regionId)
    {
        if (_mapped.TryGetValue(regionId, out var mapped)) return mapped.Value;
        if (!_remote.TryGetValue(regionId, out var descriptor) || descriptor.SharedPath is not { } path)
        {
            throw new TransferException(TransferErrorCode.UnknownRegion, $"shm: peer region '{regionId}' has no shared file to map");
        }
        // Checked once, when the file is first opened; the mapping is kept for the connection's life.
        if (SharedPathPolicy.Refusal(path, HostRegion.DefaultDirectory) is { } why)
        {
            throw new TransferException(TransferErrorCode.AccessDenied, $"shm: peer region '{regionId}' names the file '{path}', which {why}: not opened");
        }
        return _mapped.GetOrAdd(regionId, _ => new Lazy<HostRegion>(() => HostRegion.Open(regionId, path, descriptor.Length))).Value;
    }
}
