using PdRdma.Hosting.Clusters;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Network;

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
        var ports = FreePorts.Take(2);
        int peer = ports[0], http = ports[1];
        var command = PdrdmaProgram.Cli.Line().Concat(["daemon", "--node-id", nodeId, "--socket", socket, "--group", group,
            "--peer-listen", $"127.0.0.1:{peer}", "--http-listen", $"127.0.0.1:{http}", "--secret-file", secretFile,
            "--lease-ttl", leaseTtl.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra ?? []]).ToArray();
        var process = ChildProcess.Start(nodeId, command, Path.Combine(folder, nodeId + ".log"));
        var daemon = new DaemonProcess(process, socket, peer, http);
        try
        {
            await HealthProbe.WaitAsync(process, daemon.Health, TimeSpan.FromSeconds(60), CancellationToken.None);
            return daemon;
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
    }

    public void Dispose() => Process.Dispose();
}
