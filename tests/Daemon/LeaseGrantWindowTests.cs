using PdRdma.Daemon.Leases;
using PdRdma.Transport;

namespace PdRdma.Tests.Daemon;

/// <summary>A lease as a grant window (issue 10): what it covers, that it agrees with CanWrite, and that it ends with the lease.</summary>
public sealed class LeaseGrantWindowTests
{
    private static readonly KvLayout Layout = new(layers: 3, kvHeads: 2, headDim: 4, tokensPerBlock: 4, KvDType.Float32, blocks: 8);

    private static LeaseTable Table()
    {
        var table = new LeaseTable();
        table.RegisterPool("pool", Layout, owner: 1);
        return table;
    }

    [Fact]
    public void AWindowCoversExactlyTheBlocksCanWriteAllowsInEveryLayerAndPart()
    {
        var table = Table();
        table.Grant("r1", "pool", [2, 3, 6], "node-a", TimeSpan.FromMinutes(1), owner: 1);
        var window = table.DescribeGrant("node-a", "r1");
        Assert.NotNull(window);
        Assert.Equal("r1", window.Grant);
        Assert.Equal("node-a", window.PeerNodeId);
        // blocks 2+3 merge into one run and 6 stands alone, per layer and part
        Assert.Equal(Layout.Layers * 2 * 2, window.Extents.Count);
        for (var layer = 0; layer < Layout.Layers; layer++)
        foreach (var part in new[] { KvPart.Key, KvPart.Value })
        for (var block = 0; block < Layout.Blocks; block++)
        {
            var e = Layout.Extent(layer, part, block);
            Assert.Equal(table.CanWrite("node-a", "r1", "pool", e.Offset, e.Length), window.Covers("pool", e.Offset, e.Length));
        }
        var two = Layout.Extent(1, KvPart.Value, 2);
        Assert.True(window.Covers("pool", two.Offset, two.Length * 2));
        Assert.False(window.Covers("pool", two.Offset, two.Length * 3)); // runs into block 4
        Assert.False(window.Covers("other", two.Offset, two.Length));
        Assert.False(window.Extents.Zip(window.Extents.Skip(1)).Any(p => p.First.Offset + p.First.Length >= p.Second.Offset), "extents sorted, disjoint, merged");
    }

    [Fact]
    public void OnlyTheGrantedPeerGetsAWindowAndOnlyWhileTheLeaseLives()
    {
        var table = Table();
        table.Grant("r1", "pool", [1], "node-a", TimeSpan.FromMinutes(1), owner: 1);
        Assert.Null(table.DescribeGrant("node-b", "r1"));
        Assert.Null(table.DescribeGrant("node-a", "r2"));
        var window = table.DescribeGrant("node-a", "r1")!;
        Assert.False(window.Ended.IsCancellationRequested);
        var revoked = 0;
        using var registration = window.Ended.Register(() => revoked++);
        Assert.True(table.Release("r1", owner: 1));
        Assert.True(window.Ended.IsCancellationRequested);
        Assert.Equal(1, revoked);
        Assert.Null(table.DescribeGrant("node-a", "r1"));
    }

    [Fact]
    public void TheWindowEndsWhenTheDataArrivedOrTheEngineWentOrTheLeaseExpired()
    {
        var table = Table();
        table.Grant("arrives", "pool", [1], "node-a", TimeSpan.FromMinutes(1), owner: 1);
        table.Grant("owner-goes", "pool", [2], "node-a", TimeSpan.FromMinutes(1), owner: 1);
        table.Grant("expires", "pool", [3], "node-a", TimeSpan.FromMilliseconds(200), owner: 1);
        var arrives = table.DescribeGrant("node-a", "arrives")!;
        var ownerGoes = table.DescribeGrant("node-a", "owner-goes")!;
        var expires = table.DescribeGrant("node-a", "expires")!;

        Assert.NotNull(table.MarkArrived("arrives", "node-a"));
        Assert.True(arrives.Ended.IsCancellationRequested);
        Assert.Null(table.DescribeGrant("node-a", "arrives"));

        // at its expiry, before any sweep removes it
        Assert.True(expires.Ended.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)));
        Assert.Null(table.DescribeGrant("node-a", "expires"));

        Assert.False(ownerGoes.Ended.IsCancellationRequested);
        table.DropOwner(1);
        Assert.True(ownerGoes.Ended.IsCancellationRequested);
    }

    [Fact]
    public void NormalizeSortsAndMergesTouchingRunsPerRegion()
    {
        var merged = GrantWindow.Normalize([new("b", 0, 8), new("a", 16, 8), new("a", 0, 8), new("a", 8, 4), new("a", 30, 2), new("a", 31, 4), new("a", 50, 0)]);
        Assert.Equal([new GrantExtent("a", 0, 12), new GrantExtent("a", 16, 8), new GrantExtent("a", 30, 5), new GrantExtent("b", 0, 8)], merged);
        var window = new GrantWindow("g", "p", merged, DateTimeOffset.MaxValue, CancellationToken.None);
        Assert.True(window.Covers("a", 4, 8));
        Assert.False(window.Covers("a", 4, 9));
        Assert.True(window.Covers("a", 30, 5));
        Assert.True(window.Covers("b", 7, 1));
        Assert.False(window.Covers("b", 7, 2));
        Assert.False(window.Covers("a", 16, 0));
        Assert.False(window.Covers("a", -1, 2));
    }
}
