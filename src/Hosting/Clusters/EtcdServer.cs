using PdRdma.Hosting.Processes;

namespace PdRdma.Hosting.Clusters;

/// <summary>
/// A single-member etcd (Debian's etcd-server package) for local clusters and tests: its own data directory and
/// ports, never the system one, without fsync (the data directory is temporary). Stop and start again keep the data
/// directory (the registrations' leases survive a restart, as in a real etcd outage). Dispose stops it.
/// </summary>
public sealed class EtcdServer : IAsyncDisposable
{
    private readonly string[] _command;
    private readonly string _logPath;
    private ChildProcess? _process;

    private EtcdServer(string host, int clientPort, string[] command, string logPath)
    {
        ClientUrl = $"http://{host}:{clientPort}";
        _command = command;
        _logPath = logPath;
    }

    /// <summary>Where clients reach it.</summary>
    public string ClientUrl { get; }

    /// <summary>The running etcd process, or null when stopped.</summary>
    public ChildProcess? Process => _process;

    /// <summary>The etcd binary, or null when etcd-server is not installed.</summary>
    public static string? FindBinary() => new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.FirstOrDefault(File.Exists) ?? ExternalTool.Find("etcd");

    /// <summary>Starts etcd listening on <paramref name="host"/> (a loopback or own-namespace address) and waits until it is healthy.</summary>
    public static async Task<EtcdServer> StartAsync(string workDirectory, string host, int clientPort, int peerPort, CancellationToken ct)
    {
        var binary = FindBinary() ?? throw new InvalidOperationException("etcd is not installed: run scripts/setup.sh (it installs etcd-server 3.5 from Debian trixie), or pass --etcd URL of a running one");
        var data = Path.Combine(workDirectory, "etcd-data");
        Directory.CreateDirectory(data);
        var peer = $"http://{host}:{peerPort}";
        var client = $"http://{host}:{clientPort}";
        string[] command = [binary, "--name", "pdrdma", "--data-dir", data, "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", $"pdrdma={peer}", "--log-level", "warn",
            // A throwaway etcd in a temporary directory: durability buys nothing, and fsync stalls on a busy disk
            // delay lease renewals.
            "--unsafe-no-fsync"];
        var server = new EtcdServer(host, clientPort, command, Path.Combine(workDirectory, "etcd.log"));
        try
        {
            await server.StartAgainAsync(ct).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>(Re)starts the process on the same data directory and ports; returns when /health says true.</summary>
    public async Task StartAgainAsync(CancellationToken ct)
    {
        _process?.Dispose();
        _process = ChildProcess.Start("etcd", _command, _logPath);
        await HealthProbe.WaitAsync(_process, ClientUrl + "/health", TimeSpan.FromSeconds(30), ct,
            body => body.Contains("\"health\":\"true\"", StringComparison.Ordinal)).ConfigureAwait(false);
    }

    /// <summary>SIGKILL, as an etcd outage.</summary>
    public void Kill() => _process?.Kill();

    /// <summary>Stops etcd (SIGTERM, then SIGKILL).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is null) return;
        await _process.StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        _process.Dispose();
        _process = null;
    }
}
