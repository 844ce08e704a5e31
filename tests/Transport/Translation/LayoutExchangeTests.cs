using System.Net;
using PdRdma.Transport;

namespace PdRdma.Tests.Transport.Translation;

/// <summary>Pool regions are described to peers with their KV layout at connect: what the initiator plans translations against.</summary>
[Trait("Category", "KvLayout")]
public sealed class LayoutExchangeTests
{
    private static readonly KvLayout Model = new(layers: 2, kvHeads: 4, headDim: 8, tokensPerBlock: 16, KvDType.Float32, blocks: 4);

    [Fact]
    public async Task TheTargetsPoolLayoutsArriveWithItsRegions()
    {
        var rank0 = KvLayoutSpec.Parse("tp=2,block=32,order=head-major").Apply(Model, 0);
        var rank1 = KvLayoutSpec.Parse("tp=2,block=32,order=head-major").Apply(Model, 1);
        var tag = Guid.NewGuid().ToString("N")[..8];
        using var r0 = HostRegion.Create($"lx-r0-{tag}", rank0.TotalBytes);
        using var r1 = HostRegion.Create($"lx-r1-{tag}", rank1.TotalBytes);
        using var plain = HostRegion.Create($"lx-plain-{tag}", 4096);
        using var source = HostRegion.Create($"lx-src-{tag}", Model.TotalBytes);
        await using var target = new TransferAgent(new TransferAgentOptions { NodeId = "lx-target", Layout = rank0, Backend = BackendChoice.Tcp, Listen = new IPEndPoint(IPAddress.Loopback, 0) });
        target.RegisterRegion(r0, rank0);
        target.RegisterRegion(r1, rank1);
        target.RegisterRegion(plain);
        await target.StartAsync(CancellationToken.None);
        await using var initiator = new TransferAgent(new TransferAgentOptions { NodeId = "lx-init", Layout = Model, Backend = BackendChoice.Tcp });
        initiator.RegisterRegion(source, Model);
        await using var connection = await initiator.ConnectAsync(target.LocalEndpoint!, CancellationToken.None);

        var described = connection.RemoteRegions.ToDictionary(r => r.RegionId);
        Assert.Equal(rank0, described[r0.Id].Layout);
        Assert.Equal(rank1, described[r1.Id].Layout);
        Assert.Null(described[plain.Id].Layout);
    }

    [Fact]
    public async Task ALayoutLargerThanItsRegionIsRefusedAndAnotherModelAtConnect()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        using var small = HostRegion.Create($"lx-small-{tag}", 1024);
        await using var agent = new TransferAgent(new TransferAgentOptions { NodeId = "lx-a", Layout = Model, Backend = BackendChoice.Tcp, Listen = new IPEndPoint(IPAddress.Loopback, 0) });
        Assert.Throws<ArgumentException>(() => agent.RegisterRegion(small, Model));
        await agent.StartAsync(CancellationToken.None);

        var otherModel = new KvLayout(layers: 3, kvHeads: 4, headDim: 8, tokensPerBlock: 16, KvDType.Float32, blocks: 4);
        await using var other = new TransferAgent(new TransferAgentOptions { NodeId = "lx-b", Layout = otherModel, Backend = BackendChoice.Tcp });
        var e = await Assert.ThrowsAsync<TransferException>(() => other.ConnectAsync(agent.LocalEndpoint!, CancellationToken.None));
        Assert.Equal(TransferErrorCode.LayoutMismatch, e.Code);
    }
}
