using System.Collections.Concurrent;
using PdRdma.Transport;

namespace PdRdma.Tests.Security;

/// <summary>A grant table for tests: named grants of one byte range each, live until ended; counts the checks it answered.</summary>
internal sealed class TestGrants : IWriteAuthorizer
{
    private readonly ConcurrentDictionary<string, (long Offset, long Length)> _grants = new();
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _ended = new();

    public int Checks;

    /// <summary>Ends a grant after this many more checks (-1: never): a lease that expires while its bytes are on the way.</summary>
    public int EndAfterChecks { get; set; } = -1;

    public string? EndsGrant { get; set; }

    public void Grant(string name, long offset, long length)
    {
        _grants[name] = (offset, length);
        _ended[name] = new CancellationTokenSource();
    }

    /// <summary>Ends the grant: later checks refuse it, and its published windows are revoked (their token fires).</summary>
    public void End(string name)
    {
        _grants.TryRemove(name, out _);
        if (_ended.TryRemove(name, out var ended)) ended.Cancel();
    }

    /// <summary>The grant's window (one extent of region "kv"), for backends that publish windows (shm's grant table).</summary>
    public GrantWindow? DescribeGrant(string peerNodeId, string grant) =>
        _grants.TryGetValue(grant, out var g) && _ended.TryGetValue(grant, out var ended)
            ? new GrantWindow(grant, peerNodeId, [new GrantExtent("kv", g.Offset, g.Length)], DateTimeOffset.UtcNow.AddHours(1), ended.Token)
            : null;

    public bool CanWrite(string peerNodeId, string regionId, long offset, long length) => false;

    public bool CanWrite(string peerNodeId, string? grant, string regionId, long offset, long length)
    {
        var n = Interlocked.Increment(ref Checks);
        if (EndAfterChecks >= 0 && n > EndAfterChecks && EndsGrant is { } ending) End(ending);
        return grant is not null && regionId == "kv" && _grants.TryGetValue(grant, out var g) && offset >= g.Offset && offset + length <= g.Offset + g.Length;
    }
}
