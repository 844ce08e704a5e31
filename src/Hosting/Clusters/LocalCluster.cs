using System.Globalization;
using PdRdma.Hosting.Network;
using PdRdma.Hosting.Processes;

namespace PdRdma.Hosting.Clusters;

/// <summary>
/// Two nodes on this machine — two network namespaces joined by veth (198.18.x.y) when root, two sets of loopback
/// ports otherwise, or two hosts given by address — each with a daemon and an engine (prefill on A, decode on B),
/// plus the proxy and a colocated engine on A. This type lays out addresses, ports and command lines; the
/// <see cref="PartSupervisor"/> runs the parts and <see cref="NamespacePair"/> owns the network. Disposing stops
/// every process it started and removes its namespaces, links and files.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly ClusterSpec _spec;
    private readonly PartSupervisor _parts;
    private NamespacePair? _network;
    private int _disposed;

    private LocalCluster(ClusterSpec spec, string work)
    {
        _spec = spec;
        WorkDirectory = work;
        _parts = new PartSupervisor(spec.LogDirectory ?? work, TimeSpan.FromSeconds(spec.SlowHost ? 600 : 90));
    }

    /// <summary>Logs, the secret; removed on dispose unless <see cref="KeepLogs"/>.</summary>
    public string WorkDirectory { get; }

    /// <summary>Keep <see cref="WorkDirectory"/> (logs, secret) after dispose, e.g. to look at a failure.</summary>
    public bool KeepLogs { get; set; }

    /// <summary>How the nodes are laid out, in words.</summary>
    public string Topology { get; private set; } = "";

    /// <summary>The proxy's base URL.</summary>
    public string ProxyUrl { get; private set; } = "";

    /// <summary>The colocated engine's base URL.</summary>
    public string ColocatedUrl { get; private set; } = "";

    /// <summary>The prefill engine's base URL (node A).</summary>
    public string PrefillUrl { get; private set; } = "";

    /// <summary>The decode engine's base URL (node B).</summary>
    public string DecodeUrl { get; private set; } = "";

    /// <summary>Daemon A's /health URL.</summary>
    public string DaemonAHealth { get; private set; } = "";

    /// <summary>Daemon B's /health URL.</summary>
    public string DaemonBHealth { get; private set; } = "";

    /// <summary>The started parts by name (daemon-a, daemon-b, prefill, decode, proxy, colocated).</summary>
    public IReadOnlyDictionary<string, ChildProcess> Parts => _parts.Parts;

    /// <summary>Whether network namespaces can be used here (root and iproute2).</summary>
    public static bool CanUseNamespaces => HostCapabilities.CanUseNamespaces;

    /// <summary>Starts the cluster and waits until every part answers; on failure, removes what was started.</summary>
    public static async Task<LocalCluster> StartAsync(ClusterSpec spec, CancellationToken ct)
    {
        var work = spec.WorkDirectory ?? Clusters.WorkDirectory.Create(spec.Prefix);
        Directory.CreateDirectory(work);
        var cluster = new LocalCluster(spec, work);
        try
        {
            await cluster.LaunchAsync(ct).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task LaunchAsync(CancellationToken ct)
    {
        var secret = _spec.SecretFile ?? await Clusters.WorkDirectory.WriteSecretAsync(WorkDirectory, ct).ConfigureAwait(false);

        string addrA, addrB, hostA, nsA = "", nsB = "";
        int peerA, peerB, httpA, httpB, prefillPort, decodePort, colocatedPort, proxyPort;
        // Below Linux's ephemeral range (32768-60999): a fixed listen port inside it can collide with an outbound
        // connection of the same host (or namespace).
        var fixedPorts = (30100, 30100, 30190, 30190, 30200, 30201, 30202, 30300);
        if (_spec.NodeAddresses is { } nodes)
        {
            addrA = hostA = nodes.A;
            addrB = nodes.B;
            (peerA, peerB, httpA, httpB, prefillPort, decodePort, colocatedPort, proxyPort) = fixedPorts;
            Topology = $"node A at {addrA}, node B at {addrB} (separate hosts)";
        }
        else if (_spec.Namespaces)
        {
            _network = await NamespacePair.CreateAsync(_spec.Prefix, reachableFromRoot: true, ct).ConfigureAwait(false);
            (nsA, nsB, addrA, addrB, hostA) = (_network.A, _network.B, _network.AddressA, _network.AddressB, _network.RootAddressOfA!);
            (peerA, peerB, httpA, httpB, prefillPort, decodePort, colocatedPort, proxyPort) = fixedPorts;
            Topology = $"two network namespaces {nsA} ({addrA}) and {nsB} ({addrB}) joined by veth";
        }
        else
        {
            addrA = addrB = hostA = "127.0.0.1";
            var ports = FreePorts.Take(8);
            (peerA, peerB, httpA, httpB, prefillPort, decodePort, colocatedPort, proxyPort) = (ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6], ports[7]);
            Topology = CanUseNamespaces ? "two sets of loopback ports (--loopback)" : "two sets of loopback ports (not root, or no iproute2: no network namespaces)";
        }
        var separate = _spec.Namespaces || _spec.NodeAddresses is not null;
        var httpHostA = separate ? hostA : "127.0.0.1";
        var httpHostB = separate ? addrB : "127.0.0.1";
        var sockA = Path.Combine(WorkDirectory, "a.sock");
        var sockB = Path.Combine(WorkDirectory, "b.sock");
        DaemonAHealth = $"http://{httpHostA}:{httpA}/health";
        DaemonBHealth = $"http://{httpHostB}:{httpB}/health";
        PrefillUrl = $"http://{hostA}:{prefillPort}";
        DecodeUrl = $"http://{httpHostB}:{decodePort}";
        ColocatedUrl = $"http://{hostA}:{colocatedPort}";
        ProxyUrl = $"http://{hostA}:{proxyPort}";
        // Under TCG a verbs handshake (memory registration) and the first calls (JIT) take tens of seconds.
        // an engine starting under TCG may not read its socket for seconds: the default 5 s send timeout dropped the
        // prefill engine of the verbs VM demo at its first frame
        string[] slowDaemon = _spec.SlowHost ? ["--connect-timeout", "120", "--handshake-timeout", "120", "--engine-send-timeout", "120"] : [];
        string[] slowEngine = _spec.SlowHost ? ["--daemon-timeout", "240"] : [];
        string[] slowProxy = _spec.SlowHost ? ["--control-timeout", "120"] : [];
        var prefillTimeout = _spec.SlowHost ? "900" : "60";
        var heartbeat = _spec.SlowHost ? "15" : "1"; // a heartbeat is bounded by twice its period
        var ttl = _spec.LeaseTtlSeconds.ToString(CultureInfo.InvariantCulture);

        _parts.Recipe("daemon-a", nsA, ["daemon", "--node-id", "node-a", "--socket", sockA, "--group", "", "--peer-listen", $"{addrA}:{peerA}",
            "--http-listen", $"{httpHostA}:{httpA}", "--secret-file", secret, "--backend", _spec.Backend, "--lease-ttl", ttl, "--heartbeat", heartbeat, .. slowDaemon], DaemonAHealth);
        _parts.Recipe("daemon-b", nsB, ["daemon", "--node-id", "node-b", "--socket", sockB, "--group", "", "--peer-listen", $"{addrB}:{peerB}",
            "--http-listen", $"{httpHostB}:{httpB}", "--secret-file", secret, "--backend", _spec.Backend, "--lease-ttl", ttl, "--heartbeat", heartbeat, .. slowDaemon], DaemonBHealth);
        _parts.Recipe("prefill", nsA, ["serve", "--role", "prefill", "--model", _spec.Model, "--host", hostA, "--port", $"{prefillPort}", "--daemon", sockA,
            "--layer-delay-ms", _spec.LayerDelayMs.ToString(CultureInfo.InvariantCulture), .. slowEngine], PrefillUrl + "/health");
        _parts.Recipe("decode", nsB, ["serve", "--role", "decode", "--model", _spec.Model, "--host", httpHostB, "--port", $"{decodePort}", "--daemon", sockB,
            "--lease-ttl", ttl, .. slowEngine], DecodeUrl + "/health");
        _parts.Recipe("proxy", nsA, ["proxy", "--prefill", PrefillUrl, "--decode", DecodeUrl, "--host", hostA, "--port", $"{proxyPort}",
            "--token-timeout", _spec.TokenTimeoutSeconds.ToString(CultureInfo.InvariantCulture), "--prefill-timeout", prefillTimeout, .. slowProxy], ProxyUrl + "/health");
        if (_spec.Colocated)
            _parts.Recipe("colocated", nsA, ["serve", "--role", "colocated", "--model", _spec.Model, "--host", hostA, "--port", $"{colocatedPort}"], ColocatedUrl + "/health");

        if (_spec.OnlyNode is { } only)
            _parts.KeepOnly(only == "a" ? ["daemon-a", "prefill", "proxy", "colocated"] : ["daemon-b", "decode"]);

        // Daemons first (engines register their pools at start), then everything else in parallel.
        await _parts.StartAllAsync(IsDaemon, ct).ConfigureAwait(false);
        await _parts.StartAllAsync(name => !IsDaemon(name), ct).ConfigureAwait(false);
    }

    private static bool IsDaemon(string name) => name.StartsWith("daemon", StringComparison.Ordinal);

    /// <summary>Starts (or restarts after a kill) one part and waits until its /health answers.</summary>
    public Task StartPartAsync(string name, CancellationToken ct) => _parts.StartAsync(name, ct);

    /// <summary>Waits until <paramref name="url"/> answers 2xx (a part on another host); <paramref name="failed"/> returns why the other side gave up, if it did.</summary>
    public static Task WaitReachableAsync(string url, TimeSpan timeout, Func<string?> failed, CancellationToken ct) =>
        HealthProbe.WaitAsync(url, timeout, failed, ct, interval: TimeSpan.FromMilliseconds(500));

    /// <summary>Stops every part, removes the namespaces and (unless <see cref="KeepLogs"/>) the work directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _parts.StopAllAsync().ConfigureAwait(false);
        if (_network is not null) await _network.DisposeAsync().ConfigureAwait(false);
        if (!KeepLogs) Clusters.WorkDirectory.TryDelete(WorkDirectory);
    }

    /// <summary>Synchronous last-resort cleanup (process exit, Ctrl-C).</summary>
    public void KillNow()
    {
        _parts.KillAll();
        _network?.Dispose();
    }
}
