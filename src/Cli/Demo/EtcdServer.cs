using System.Diagnostics;

namespace PdRdma.Cli.Demo;

/// <summary>
/// A single-member etcd (Debian's etcd-server package) for local clusters and tests: its own data directory and
/// ports, never the system one, without fsync (the data directory is temporary). Stop and start again keep the data directory (the registrations' leases survive
/// a restart, as in a real etcd outage). Dispose stops it.
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

    public string ClientUrl { get; }

    public ChildProcess? Process => _process;

    /// <summary>The etcd binary, or null when etcd-server is not installed.</summary>
    public static string? FindBinary() =>
        new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" }.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "etcd")))
            .FirstOrDefault(File.Exists);

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
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited) throw new InvalidOperationException($"etcd exited during start; its log ({_logPath}) ends with:\n{_process.Tail()}");
            try
            {
                var body = await http.GetStringAsync(ClientUrl + "/health", ct).ConfigureAwait(false);
                if (body.Contains("\"health\":\"true\"", StringComparison.Ordinal)) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
        throw new TimeoutException($"etcd at {ClientUrl} was not healthy within 30 s; log {_logPath}:\n{_process.Tail()}");
    }

    /// <summary>SIGKILL, as an etcd outage.</summary>
    public void Kill() => _process?.Kill();

    public void KillNow() => _process?.Kill();

    public async ValueTask DisposeAsync()
    {
        if (_process is null) return;
        await _process.StopAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        _process.Dispose();
        _process = null;
    }
}
