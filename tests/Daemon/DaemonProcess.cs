using PdRdma.Cli.Demo;

namespace PdRdma.Tests.Daemon;

/// <summary>A pdrdmad started as its own process for a test; killed on dispose.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class DaemonProcess : IDisposable
{
    private DaemonProcess(ChildProcess process, string socket, int peerPort, int httpPort)
    {
        Process = process;
        Socket = socket;
        PeerEndpoint = $"127.0.0.1:{peerPort}";
        Health = $"http://127.0.0.1:{httpPort}/health";
        Metrics = $"http://127.0.0.1:{httpPort}/metrics";
    }

    public ChildProcess Process { get; }
    public string Socket { get; }
    public string PeerEndpoint { get; }
    public string Health { get; }
    public string Metrics { get; }

    public static async Task<DaemonProcess> StartAsync(string folder, string nodeId, string secretFile, string group = "", double leaseTtl = 30, string[]? extra = null)
    {
        var socket = Path.Combine(folder, nodeId + ".sock");
        int peer = TestPaths.FreePort(), http = TestPaths.FreePort();
        var command = LocalCluster.SelfCommand().Concat(["daemon", "--node-id", nodeId, "--socket", socket, "--group", group,
            "--peer-listen", $"127.0.0.1:{peer}", "--http-listen", $"127.0.0.1:{http}", "--secret-file", secretFile,
            "--lease-ttl", leaseTtl.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra ?? []]).ToArray();
        var process = ChildProcess.Start(nodeId, command, Path.Combine(folder, nodeId + ".log"));
        var daemon = new DaemonProcess(process, socket, peer, http);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"daemon {nodeId} exited:\n{process.Tail()}");
            try
            {
                if ((await client.GetAsync(daemon.Health)).IsSuccessStatusCode) return daemon;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        daemon.Dispose();
        throw new TimeoutException($"daemon {nodeId} did not start:\n{process.Tail()}");
    }

    public void Dispose() => Process.Dispose();
}
