using System.Net;
using System.Net.Sockets;
using PdRdma.Cli.Demo;

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
        var ports = FreePorts(2);
        Server = await EtcdServer.StartAsync(_work, "127.0.0.1", ports[0], ports[1], CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    public static int ClosedPort() => FreePorts(1)[0];

    public static int[] FreePorts(int count)
    {
        var sockets = Enumerable.Range(0, count).Select(_ =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return s;
        }).ToList();
        var ports = sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port).ToArray();
        foreach (var s in sockets) s.Dispose();
        return ports;
    }
}
