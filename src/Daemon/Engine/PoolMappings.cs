using Microsoft.Win32.SafeHandles;
using PdRdma.Daemon.Fabric;
using PdRdma.Transport;

namespace PdRdma.Daemon.Engine;

/// <summary>
/// The daemon's mappings of engines' pools, by pool id, each made from the descriptor the engine handed over (never
/// a path). Registering an id again replaces the mapping; a replaced or dropped mapping is retired, not unmapped at
/// once, because a peer's batch accepted before may still be placing bytes into it: retired mappings are unmapped
/// after <c>grace</c>, and at most <see cref="MaxRetired"/> are kept (beyond, re-registration is refused with
/// Overloaded). Thread-safe.
/// </summary>
public sealed class PoolMappings : IDisposable
{
    /// <summary>Replaced or dropped mappings kept alive at most at once.</summary>
    public const int MaxRetired = 64;

    private readonly IKvFabric _fabric;
    private readonly TimeSpan _grace;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (HostRegion Region, long Owner)> _live = new(StringComparer.Ordinal);
    private readonly List<(HostRegion Region, DateTimeOffset Since)> _retired = [];

    public PoolMappings(IKvFabric fabric, TimeSpan grace, TimeProvider? time = null)
    {
        _fabric = fabric;
        _grace = grace;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Mappings replaced or dropped and not yet unmapped.</summary>
    public int Retired { get { lock (_lock) return _retired.Count; } }

    /// <summary>Maps <paramref name="descriptor"/> (ownership moves here) as pool <paramref name="poolId"/> of engine session <paramref name="owner"/>, replacing any earlier mapping of that id.</summary>
    public void Map(string poolId, long owner, SafeFileHandle descriptor, long length)
    {
        HostRegion region;
        try
        {
            lock (_lock)
            {
                if (_live.ContainsKey(poolId) && _retired.Count >= MaxRetired)
                    throw new TransferException(TransferErrorCode.Overloaded, $"pool '{poolId}' was re-registered too often: {MaxRetired} replaced mappings wait to be unmapped; retry later");
            }
            region = HostRegion.FromHandle(poolId, descriptor, length);
        }
        catch
        {
            descriptor.Dispose();
            throw;
        }
        lock (_lock)
        {
            if (_live.Remove(poolId, out var old))
            {
                _fabric.DeregisterRegion(poolId);
                _retired.Add((old.Region, _time.GetUtcNow()));
            }
            _live[poolId] = (region, owner);
            _fabric.RegisterRegion(region);
        }
    }

    /// <summary>Forgets the pools of an engine session that went away (their mappings are retired).</summary>
    public void DropOwner(long owner)
    {
        lock (_lock)
        {
            foreach (var (poolId, entry) in _live.Where(p => p.Value.Owner == owner).ToList())
            {
                _live.Remove(poolId);
                _fabric.DeregisterRegion(poolId);
                _retired.Add((entry.Region, _time.GetUtcNow()));
            }
        }
    }

    /// <summary>The mapping of a pool (for tests and status), or null.</summary>
    public HostRegion? Find(string poolId)
    {
        lock (_lock) return _live.TryGetValue(poolId, out var entry) ? entry.Region : null;
    }

    /// <summary>Unmaps retired mappings older than the grace period.</summary>
    public void Sweep()
    {
        List<HostRegion> due;
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            due = _retired.Where(r => now - r.Since >= _grace).Select(r => r.Region).ToList();
            _retired.RemoveAll(r => now - r.Since >= _grace);
        }
        foreach (var region in due) region.Dispose();
    }

    /// <summary>Unmaps everything (the daemon and its fabric are gone).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var (region, _) in _live.Values) region.Dispose();
            foreach (var (region, _) in _retired) region.Dispose();
            _live.Clear();
            _retired.Clear();
        }
    }
}
