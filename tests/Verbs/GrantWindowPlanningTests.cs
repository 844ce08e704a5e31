using MessagePack;
using PdRdma.Transport;
using PdRdma.Transport.Backends.Verbs;
using PdRdma.Transport.Backends.Verbs.Internal;

namespace PdRdma.Tests.Verbs;

/// <summary>
/// Host-side parts of the verbs grant windows (no device needed): how a grant's extents become memory windows, and the
/// initiator reading the windows a (possibly hostile) target sends.
/// </summary>
[Trait("Category", "Verbs")]
public sealed class GrantWindowPlanningTests
{
    private static GrantWindow Grant(params GrantExtent[] extents) =>
        new("req-1", "peer", GrantWindow.Normalize(extents), DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

    [Fact]
    public void Runs_OneWindowPerExtentWhileTheyFit()
    {
        var grant = Grant(new("kv", 0, 4096), new("kv", 8192, 4096), new("v", 0, 100));
        Assert.Equal(grant.Extents, WindowPlanner.Runs(grant.Extents, 8));
    }

    [Fact]
    public void Runs_OverTheCap_ClosesTheSmallestGapsOfTheSameRegionOnly()
    {
        // gaps 4096, 100, 20000 in kv (the 100 is closed first); region v apart
        var grant = Grant(new("kv", 0, 4096), new("kv", 8192, 4096), new("kv", 12388, 100), new("kv", 32488, 10), new("v", 0, 100));
        var runs = WindowPlanner.Runs(grant.Extents, 4);
        Assert.Equal([new("kv", 0, 4096), new("kv", 8192, 4296), new("kv", 32488, 10), new("v", 0, 100)], runs);
        var two = WindowPlanner.Runs(grant.Extents, 2);
        Assert.Equal([new("kv", 0, 32498), new("v", 0, 100)], two);
        // every granted byte stays covered
        foreach (var e in grant.Extents) Assert.Contains(two, r => r.Covers(e.RegionId, e.Offset, e.Length));
    }

    [Fact]
    public void Runs_MoreRegionsThanWindows_IsPoolFull()
    {
        var grant = Grant(new("a", 0, 1), new("b", 0, 1), new("c", 0, 1));
        Assert.Equal(TransferErrorCode.PoolFull, Assert.Throws<TransferException>(() => WindowPlanner.Runs(grant.Extents, 2)).Code);
    }

    [Fact]
    public void Blob_RoundTrips_Sorted()
    {
        var grant = Grant(new GrantExtent("kv", 0, 1 << 20), new GrantExtent("kv", 4 << 20, 1 << 20));
        var blob = WindowBlob.Write([new VerbsWindow("kv", 4 << 20, 1 << 20, 7), new VerbsWindow("kv", 0, 1 << 20, 5)]);
        var read = WindowBlob.Read(blob, grant, "target", 256);
        Assert.Equal([new VerbsWindow("kv", 0, 1 << 20, 5), new VerbsWindow("kv", 4 << 20, 1 << 20, 7)], read);
    }

    public static TheoryData<string, byte[]?> HostileBlobs()
    {
        var data = new TheoryData<string, byte[]?>
        {
            { "none", null },
            { "garbage", [0xC1, 0xFF, 0x00, 0x13] },
            { "truncated", WindowBlob.Write([new VerbsWindow("kv", 0, 4096, 1)])[..5] },
            { "empty list", WindowBlob.Write([]) },
            { "not a list", MessagePackSerializer.Serialize("windows") },
            { "negative offset", WindowBlob.Write([new VerbsWindow("kv", -4096, 8192, 1)]) },
            { "zero length", WindowBlob.Write([new VerbsWindow("kv", 0, 0, 1)]) },
            { "offset overflows", WindowBlob.Write([new VerbsWindow("kv", long.MaxValue - 10, 100, 1)]) },
            { "past the grant", WindowBlob.Write([new VerbsWindow("kv", 0, (1 << 20) + 1, 1)]) },
            { "another region", WindowBlob.Write([new VerbsWindow("other", 0, 4096, 1)]) },
            { "too many", WindowBlob.Write(Enumerable.Range(0, 257).Select(i => new VerbsWindow("kv", i, 1, (uint)i)).ToArray()) },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(HostileBlobs))]
    public void Blob_Hostile_IsProtocolError(string what, byte[]? blob)
    {
        var grant = Grant(new GrantExtent("kv", 0, 1 << 20));
        var ex = Assert.Throws<TransferException>(() => WindowBlob.Read(blob, grant, "target", 256));
        Assert.True(ex.Code == TransferErrorCode.Protocol, $"{what}: {ex.Code} {ex.Detail}");
    }
}
