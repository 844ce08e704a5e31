using PdRdma.Cli.Demo;

namespace PdRdma.Tests.Serving;

/// <summary>One loopback two-node cluster (daemons, prefill, decode, proxy, colocated) shared by the tests of a class.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;

    /// <summary>stories260K from ../shared/models when present (a real trained model), else the built-in tiny-random.</summary>
    public static string Model
    {
        get
        {
            var root = AppContext.BaseDirectory;
            while (root is not null && !File.Exists(Path.Combine(root, "PdRdma.sln"))) root = Path.GetDirectoryName(root);
            var stories = root is null ? null : Path.Combine(root, "..", "shared", "models", "stories260K", "stories260K.bin");
            return stories is not null && File.Exists(stories) ? Path.GetFullPath(stories) : "tiny-random";
        }
    }

    public async Task InitializeAsync() =>
        Cluster = await LocalCluster.StartAsync(new ClusterSpec { Prefix = "pdd", Namespaces = false, Model = Model }, CancellationToken.None);

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
