using PdRdma.Daemon.Leases;
using PdRdma.Transport;

namespace PdRdma.Tests.Daemon;

public sealed class LeaseTableTests
{
    private static readonly KvLayout Layout = new(layers: 2, kvHeads: 2, headDim: 4, tokensPerBlock: 4, KvDType.Float32, blocks: 8);

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static (LeaseTable Table, ManualClock Clock) Table()
    {
        var clock = new ManualClock();
        var table = new LeaseTable(clock);
        table.RegisterPool("pool", Layout, owner: 1);
        return (table, clock);
    }

    [Fact]
    public void AGrantedPeerMayWriteItsBlocksInEveryLayerAndNothingElse()
    {
        var (table, _) = Table();
        table.Grant("r1", "pool", [2, 3], "node-a", TimeSpan.FromSeconds(5), owner: 1);
        foreach (var layer in new[] { 0, 1 })
        foreach (var part in new[] { KvPart.Key, KvPart.Value })
        {
            var two = Layout.Extent(layer, part, 2);
            Assert.True(table.CanWrite("node-a", "pool", two.Offset, two.Length * 2)); // blocks 2 and 3 coalesced
            var four = Layout.Extent(layer, part, 4);
            Assert.False(table.CanWrite("node-a", "pool", four.Offset, four.Length));
            Assert.False(table.CanWrite("node-a", "pool", two.Offset, two.Length * 3)); // runs into block 4
        }
        var extent = Layout.Extent(0, KvPart.Key, 2);
        Assert.False(table.CanWrite("node-c", "pool", extent.Offset, extent.Length)); // another peer
        Assert.False(table.CanWrite("node-a", "other", extent.Offset, extent.Length)); // another pool
        Assert.False(table.CanWrite("node-a", "pool", extent.Offset + 4, extent.Length - 4)); // not block aligned
    }

    [Fact]
    public void ALeaseExpiresWhenNothingArrivesAndThenGrantsNothing()
    {
        var (table, clock) = Table();
        table.Grant("r1", "pool", [1], "node-a", TimeSpan.FromSeconds(5), owner: 1);
        var extent = Layout.Extent(0, KvPart.Value, 1);
        clock.Now += TimeSpan.FromSeconds(4);
        Assert.Empty(table.ExpireDue());
        Assert.True(table.CanWrite("node-a", "pool", extent.Offset, extent.Length));
        clock.Now += TimeSpan.FromSeconds(2);
        Assert.False(table.CanWrite("node-a", "pool", extent.Offset, extent.Length)); // expired even before the sweep
        var expired = Assert.Single(table.ExpireDue());
        Assert.Equal("r1", expired.RequestId);
        Assert.Equal(0, table.Active);
        Assert.Equal(1, table.ExpiredTotal);
    }

    [Fact]
    public void ReleaseAndArrivalEndWriteAccess()
    {
        var (table, clock) = Table();
        var extent = Layout.Extent(1, KvPart.Key, 5);
        table.Grant("r1", "pool", [5], "node-a", TimeSpan.FromSeconds(5), owner: 1);
        Assert.NotNull(table.MarkArrived("r1", "node-a"));
        Assert.False(table.CanWrite("node-a", "pool", extent.Offset, extent.Length));
        clock.Now += TimeSpan.FromMinutes(1);
        Assert.Empty(table.ExpireDue()); // arrived leases stay with the engine until released
        Assert.True(table.Release("r1", owner: 1));
        Assert.False(table.Release("r1", owner: 1));
        Assert.Equal(0, table.Active);
    }

    [Fact]
    public void ArrivalFromAnotherPeerIsIgnored()
    {
        var (table, _) = Table();
        table.Grant("r1", "pool", [0], "node-a", TimeSpan.FromSeconds(5), owner: 1);
        Assert.Null(table.MarkArrived("r1", "node-x"));
        Assert.NotNull(table.MarkArrived("r1", "node-a"));
    }

    [Fact]
    public void GrantsAreChecked()
    {
        var (table, _) = Table();
        Assert.Equal(TransferErrorCode.OutOfBounds, Assert.Throws<TransferException>(() => table.Grant("r", "pool", [8], "n", TimeSpan.FromSeconds(1), 1)).Code);
        Assert.Equal(TransferErrorCode.UnknownRegion, Assert.Throws<TransferException>(() => table.Grant("r", "nope", [1], "n", TimeSpan.FromSeconds(1), 1)).Code);
        Assert.Equal(TransferErrorCode.AccessDenied, Assert.Throws<TransferException>(() => table.Grant("r", "pool", [1], "n", TimeSpan.FromSeconds(1), owner: 2)).Code);
        table.Grant("r", "pool", [1], "n", TimeSpan.FromSeconds(1), 1);
        Assert.Equal(TransferErrorCode.Protocol, Assert.Throws<TransferException>(() => table.Grant("r", "pool", [2], "n", TimeSpan.FromSeconds(1), 1)).Code);
    }

    [Fact]
    public void AClosedEngineConnectionReturnsItsLeasesAndPools()
    {
        var (table, _) = Table();
        table.Grant("r1", "pool", [0], "node-a", TimeSpan.FromSeconds(5), owner: 1);
        table.Grant("r2", "pool", [1], "node-a", TimeSpan.FromSeconds(5), owner: 1);
        Assert.Equal(2, table.DropOwner(1).Count);
        Assert.Equal(0, table.Active);
        Assert.Empty(table.Pools);
    }
}
