using PdRdma.Hosting.Clusters;

namespace PdRdma.Tests.Serving;

/// <summary>One loopback two-node cluster (daemons, prefill, decode, proxy, colocated) shared by the tests of a class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;

    /// <summary>The shipped default model (models/stories260K, a real trained model).</summary>
    public const string Model = PdRdma.Engines.Serving.ModelCatalog.Default;

    public async Task InitializeAsync() =>
        Cluster = await LocalCluster.StartAsync(new ClusterSpec { Prefix = "pdd", Namespaces = false, Model = Model }, CancellationToken.None);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
