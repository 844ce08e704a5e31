using PdRdma.Daemon.Leases;
using PdRdma.Transport;

namespace PdRdma.Tests.Security;

/// <summary>The daemon's leases as transport grants: a batch names its request, and only that request's live lease counts.</summary>
public sealed class LeaseGrantTests
{
    private static readonly KvLayout Layout = new(layers: 2, kvHeads: 2, headDim: 4, tokensPerBlock: 4, KvDType.Float32, blocks: 8);

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void ARequestMayWriteOnlyItsOwnBlocksAndOnlyWhileItsLeaseLives()
    {
        var clock = new ManualClock();
        var table = new LeaseTable(clock);
        table.RegisterPool("pool", Layout, owner: 1);
        table.Grant("r1", "pool", [1], "node-a", TimeSpan.FromSeconds(5), owner: 1);
        table.Grant("r2", "pool", [2], "node-a", TimeSpan.FromSeconds(5), owner: 1);
        var one = Layout.Extent(0, KvPart.Key, 1);
        var two = Layout.Extent(0, KvPart.Key, 2);
        Assert.True(table.CanWrite("node-a", "r1", "pool", one.Offset, one.Length));
        Assert.False(table.CanWrite("node-a", "r1", "pool", two.Offset, two.Length)); // r2's block, same peer
        Assert.False(table.CanWrite("node-b", "r1", "pool", one.Offset, one.Length)); // another peer
        Assert.False(table.CanWrite("node-a", "r9", "pool", one.Offset, one.Length)); // no such request
        Assert.True(table.Release("r1", owner: 1));
        Assert.False(table.CanWrite("node-a", "r1", "pool", one.Offset, one.Length)); // released
        clock.Now += TimeSpan.FromSeconds(6);
        Assert.False(table.CanWrite("node-a", "r2", "pool", two.Offset, two.Length)); // expired, even before the expiry loop ran
    }
}
