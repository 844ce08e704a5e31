using PdRdma.Daemon.Fabric;
using PdRdma.Transport;

namespace PdRdma.Daemon.Leases;

/// <summary>
/// Pools registered by engines and the leases on their blocks; decides which peer may write where
/// (<see cref="IWriteGate"/>): a peer writes only into blocks granted to it, while the lease is active
/// (granted, not arrived, not expired, not released). Thread-safe (one lock; calls are short).
/// </summary>
public sealed class LeaseTable : IWriteGate, IWriteAuthorizer
{
    private readonly object _lock = new();
    private readonly Dictionary<string, (KvLayout Layout, long Owner)> _pools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Lease> _byRequest = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private long _expired;
    private long _nextLease;

    public LeaseTable(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    public int Active { get { lock (_lock) return _byRequest.Count; } }

    public long ExpiredTotal => Interlocked.Read(ref _expired);

    public IReadOnlyList<string> Pools { get { lock (_lock) return _pools.Keys.ToArray(); } }

    /// <summary>Each pool with its layout and how many of its blocks active leases hold (for the cluster directory).</summary>
    public IReadOnlyList<(string PoolId, KvLayout Layout, int LeasedBlocks)> Usage()
    {
        lock (_lock)
            return _pools.Select(p => (p.Key, p.Value.Layout, _byRequest.Values.Where(l => l.PoolId == p.Key).Sum(l => l.Blocks.Count))).ToList();
    }

    /// <summary>Throws (Protocol) when another engine connection holds <paramref name="poolId"/>.</summary>
    public void EnsureCanRegister(string poolId, long owner)
    {
        lock (_lock)
        {
            if (_pools.TryGetValue(poolId, out var existing) && existing.Owner != owner)
                throw new TransferException(TransferErrorCode.Protocol, $"pool '{poolId}' is already registered by another engine connection");
        }
    }

    public void RegisterPool(string poolId, KvLayout layout, long owner)
    {
        lock (_lock)
        {
            if (_pools.TryGetValue(poolId, out var existing) && existing.Owner != owner)
                throw new TransferException(TransferErrorCode.Protocol, $"pool '{poolId}' is already registered by another engine connection");
            _pools[poolId] = (layout, owner);
        }
    }

    public bool TryGetPool(string poolId, out KvLayout layout)
    {
        lock (_lock)
        {
            var found = _pools.TryGetValue(poolId, out var pool);
            layout = pool.Layout;
            return found;
        }
    }

    public Lease Grant(string requestId, string poolId, IReadOnlyCollection<int> blocks, string peerNodeId, TimeSpan ttl, long owner)
    {
        lock (_lock)
        {
            if (!_pools.TryGetValue(poolId, out var pool))
                throw new TransferException(TransferErrorCode.UnknownRegion, $"pool '{poolId}' is not registered: call RegisterPool first");
            if (pool.Owner != owner)
                throw new TransferException(TransferErrorCode.AccessDenied, $"pool '{poolId}' belongs to another engine connection");
            if (_byRequest.ContainsKey(requestId))
                throw new TransferException(TransferErrorCode.Protocol, $"request '{requestId}' already holds a lease");
            if (blocks.Count == 0 || blocks.Any(b => (uint)b >= (uint)pool.Layout.Blocks))
                throw new TransferException(TransferErrorCode.OutOfBounds, $"blocks must be non-empty and in [0, {pool.Layout.Blocks})");
            var lease = new Lease
            {
                LeaseId = $"L{Interlocked.Increment(ref _nextLease)}",
                RequestId = requestId,
                PoolId = poolId,
                Layout = pool.Layout,
                Blocks = blocks.ToHashSet(),
                PeerNodeId = peerNodeId,
                OwnerSession = owner,
                ExpiresAt = _time.GetUtcNow() + ttl,
                // The window a peer may hold closes at the expiry even before the expiry loop removes the lease.
                Ending = new CancellationTokenSource(ttl, _time),
            };
            _byRequest[requestId] = lease;
            return lease;
        }
    }

    /// <summary>Ends a lease; false when the request holds none (already released or expired).</summary>
    public bool Release(string requestId, long owner)
    {
        Lease? lease;
        lock (_lock)
        {
            if (!_byRequest.TryGetValue(requestId, out lease) || lease.OwnerSession != owner) return false;
            _byRequest.Remove(requestId);
        }
        End(lease);
        return true;
    }

    /// <summary>Marks a request's KV complete when the notice comes from the peer the lease names; returns the lease or null.</summary>
    public Lease? MarkArrived(string requestId, string fromPeer)
    {
        Lease? lease;
        lock (_lock)
        {
            if (!_byRequest.TryGetValue(requestId, out lease) || lease.PeerNodeId != fromPeer || lease.Arrived) return null;
            lease.Arrived = true;
        }
        End(lease);
        return lease;
    }

    /// <summary>Removes leases still waiting for data past their deadline.</summary>
    public IReadOnlyList<Lease> ExpireDue()
    {
        var now = _time.GetUtcNow();
        List<Lease> due;
        lock (_lock)
        {
            due = _byRequest.Values.Where(l => !l.Arrived && l.ExpiresAt <= now).ToList();
            foreach (var lease in due) _byRequest.Remove(lease.RequestId);
            Interlocked.Add(ref _expired, due.Count);
        }
        foreach (var lease in due) End(lease);
        return due;
    }

    /// <summary>An engine connection closed: its pools and leases go.</summary>
    public IReadOnlyList<Lease> DropOwner(long owner)
    {
        List<Lease> leases;
        lock (_lock)
        {
            foreach (var pool in _pools.Where(p => p.Value.Owner == owner).Select(p => p.Key).ToList()) _pools.Remove(pool);
            leases = _byRequest.Values.Where(l => l.OwnerSession == owner).ToList();
            foreach (var lease in leases) _byRequest.Remove(lease.RequestId);
        }
        foreach (var lease in leases) End(lease);
        return leases;
    }

    /// <summary>Without a named grant: any active lease of this peer on the pool covers the blocks.</summary>
    public bool CanWrite(string peerNodeId, string regionId, long offset, long length) => CanWrite(peerNodeId, null, regionId, offset, length);

    /// <summary>
    /// With a named grant (the request id the writer's batch carries): only that request's lease counts, so a request
    /// cannot write into blocks granted to another, and a lease released, arrived or expired refuses its bytes at the
    /// moment they land (the transport asks again for every data chunk).
    /// </summary>
    public bool CanWrite(string peerNodeId, string? grant, string regionId, long offset, long length)
    {
        lock (_lock)
        {
            if (!_pools.TryGetValue(regionId, out var pool) || length <= 0) return false;
            var blockBytes = pool.Layout.BlockBytes;
            if (offset < 0 || offset % blockBytes != 0 || length % blockBytes != 0 || offset + length > pool.Layout.TotalBytes) return false;
            var now = _time.GetUtcNow();
            bool Live(Lease l) => l.PoolId == regionId && l.PeerNodeId == peerNodeId && !l.Arrived && l.ExpiresAt > now;
            IReadOnlySet<int> granted;
            if (grant is not null)
            {
                if (!_byRequest.TryGetValue(grant, out var lease) || !Live(lease)) return false;
                granted = lease.Blocks;
            }
            else
            {
                var union = new HashSet<int>();
                foreach (var lease in _byRequest.Values)
                {
                    if (Live(lease)) union.UnionWith(lease.Blocks);
                }
                granted = union;
            }
            if (granted.Count == 0) return false;
            for (var chunk = offset / blockBytes; chunk < (offset + length) / blockBytes; chunk++)
            {
                if (!granted.Contains((int)(chunk % pool.Layout.Blocks))) return false;
            }
            return true;
        }
    }

    /// <summary>
    /// The window of a live lease for its peer (issue 10): every chunk of the pool that holds one of the lease's blocks
    /// (each layer's K and V part of each block), merged into runs; it ends when the lease does. Null when
    /// <paramref name="grant"/> names no live lease of <paramref name="peerNodeId"/>.
    /// </summary>
    public GrantWindow? DescribeGrant(string peerNodeId, string grant)
    {
        Lease lease;
        lock (_lock)
        {
            if (!_byRequest.TryGetValue(grant, out var found) || found.PeerNodeId != peerNodeId || found.Arrived || found.ExpiresAt <= _time.GetUtcNow() || found.Ending.IsCancellationRequested) return null;
            lease = found;
        }
        var layout = lease.Layout;
        var blockBytes = layout.BlockBytes;
        var chunks = layout.TotalBytes / blockBytes;
        var extents = new List<GrantExtent>();
        for (long chunk = 0; chunk < chunks; chunk++)
        {
            if (lease.Blocks.Contains((int)(chunk % layout.Blocks))) extents.Add(new GrantExtent(lease.PoolId, chunk * blockBytes, blockBytes));
        }
        try
        {
            return new GrantWindow(grant, peerNodeId, GrantWindow.Normalize(extents), lease.ExpiresAt, lease.Ending.Token);
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Ends a lease's window (outside the lock: the callbacks revoke windows in backends).</summary>
    private static void End(Lease lease) => lease.Ending.Cancel();
}
