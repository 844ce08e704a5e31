using PdRdma.Hosting.Clusters;
using PdRdma.Hosting.Network;

namespace PdRdma.Tests.Cluster;

/// <summary>A real etcd (Debian's etcd-server) on free loopback ports with a temporary data directory, for one test class.</summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    private readonly string _work = Path.Combine(Path.GetTempPath(), $"pdrdma-etcd-test-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);

    public EtcdServer Server { get; private set; } = null!;

    public string Url => Server.ClientUrl;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_work);
        var ports = FreePorts.Take(2);
        Server = await EtcdServer.StartAsync(_work, "127.0.0.1", ports[0], ports[1], CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }
}
