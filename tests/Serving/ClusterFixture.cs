using PdRdma.Cli.Demo;

namespace PdRdma.Tests.Serving;

/// <summary>One loopback two-node cluster (daemons, prefill, decode, proxy, colocated) shared by the tests of a class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Cluster = await LocalCluster.StartAsync(new ClusterSpec { Prefix = "pdd", Namespaces = false }, CancellationToken.None);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
