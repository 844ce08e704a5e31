using System.Globalization;
using System.Text.Json;
using PdRdma.Hosting.Network;
using PdRdma.Hosting.Processes;

namespace PdRdma.Hosting.Clusters;

/// <summary>
/// N prefill and M decode nodes on this machine that find each other through etcd: each node a daemon and an
/// engine registered in etcd (one network namespace per node on a bridge when root, loopback ports otherwise),
/// an etcd (started here unless one is given) and a proxy that watches the directory. No part is told about
/// another part except etcd's URL. This type lays out addresses and command lines; <see cref="PartSupervisor"/>
/// runs the parts and <see cref="NamespaceBridge"/> owns the network. Disposing stops every process and removes
/// the namespaces, bridge and files.
/// </summary>
public sealed class DiscoveryCluster : IAsyncDisposable
{
    private readonly DiscoverySpec _spec;
    private readonly PartSupervisor _parts;
    private NamespaceBridge? _network;
    private int _disposed;

    private DiscoveryCluster(DiscoverySpec spec, string work)
    {
        _spec = spec;
        WorkDirectory = work;
        _parts = new PartSupervisor(work, TimeSpan.FromSeconds(120));
    }

    /// <summary>Logs, secret, etcd data; removed on dispose unless <see cref="KeepLogs"/>.</summary>
    public string WorkDirectory { get; }

    /// <summary>Keep <see cref="WorkDirectory"/> after dispose.</summary>
    public bool KeepLogs { get; set; }

    /// <summary>How the nodes are laid out, in words.</summary>
    public string Topology { get; private set; } = "";

    /// <summary>The etcd started here, or null when one was given.</summary>
    public EtcdServer? Etcd { get; private set; }

    /// <summary>etcd's client URL.</summary>
    public string EtcdUrl { get; private set; } = "";

    /// <summary>The proxy's base URL.</summary>
    public string ProxyUrl { get; private set; } = "";

    /// <summary>The colocated engine's base URL (when <see cref="DiscoverySpec.Colocated"/>).</summary>
    public string ColocatedUrl { get; private set; } = "";

    /// <summary>Node id → engine URL, e.g. "d1" → http://127.0.0.1:40123.</summary>
    public Dictionary<string, string> EngineUrls { get; } = new(StringComparer.Ordinal);

    /// <summary>Node id → daemon /health URL.</summary>
    public Dictionary<string, string> DaemonHealth { get; } = new(StringComparer.Ordinal);

    /// <summary>The started parts by name (daemon-ID, ID, proxy, colocated).</summary>
    public IReadOnlyDictionary<string, ChildProcess> Parts => _parts.Parts;

    /// <summary>Starts the cluster and waits until the proxy routes to every node; on failure keeps the logs and removes the rest.</summary>
    public static async Task<DiscoveryCluster> StartAsync(DiscoverySpec spec, CancellationToken ct)
    {
        if (spec.Prefill is < 1 or > 32 || spec.Decode is < 1 or > 32) throw new ArgumentException("--prefill and --decode must be in [1, 32]");
        var work = spec.WorkDirectory ?? Clusters.WorkDirectory.Create(spec.Prefix);
        Directory.CreateDirectory(work);
        var cluster = new DiscoveryCluster(spec, work);
        try
        {
            await cluster.LaunchAsync(ct).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            cluster.KeepLogs = true;
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task LaunchAsync(CancellationToken ct)
    {
        var secret = await Clusters.WorkDirectory.WriteSecretAsync(WorkDirectory, ct).ConfigureAwait(false);
        var nodes = Enumerable.Range(0, _spec.Prefill).Select(i => (Id: $"p{i}", Role: "prefill"))
            .Concat(Enumerable.Range(0, _spec.Decode).Select(i => (Id: $"d{i}", Role: "decode"))).ToList();

        string hub; // where etcd and the proxy listen
        if (_spec.Namespaces)
        {
            _network = await NamespaceBridge.CreateAsync(_spec.Prefix, nodes.Select(n => n.Id).ToList(), ct).ConfigureAwait(false);
            hub = _network.HubAddress;
            Topology = $"{nodes.Count} network namespaces on bridge {_network.BridgeName} ({_network.Subnet}), etcd and proxy on {hub}";
        }
        else
        {
            hub = "127.0.0.1";
            Topology = $"{nodes.Count} nodes on loopback ports" + (HostCapabilities.CanUseNamespaces ? "" : " (not root, or no iproute2: no network namespaces)");
        }
        var ports = FreePorts.Take(3 * nodes.Count + 4);
        var next = 0;
        int Port(int fixedPort) => _spec.Namespaces ? fixedPort : ports[next++];

        if (_spec.Etcd is { Length: > 0 } given)
        {
            EtcdUrl = given;
        }
        else
        {
            Etcd = await EtcdServer.StartAsync(WorkDirectory, hub, ports[next++], ports[next++], ct).ConfigureAwait(false);
            EtcdUrl = Etcd.ClientUrl;
        }
        var ttl = _spec.EtcdTtlSeconds.ToString(CultureInfo.InvariantCulture);
        string[] etcd = ["--etcd", EtcdUrl, "--etcd-ttl", ttl];
        foreach (var (nodeId, role) in nodes)
        {
            var (ns, address) = _network is not null ? _network.Nodes[nodeId] : ((string?)null, "127.0.0.1");
            var socket = Path.Combine(WorkDirectory, nodeId + ".sock");
            var http = Port(30190);
            var peer = Port(30100);
            var serve = Port(30200);
            DaemonHealth[nodeId] = $"http://{address}:{http}/health";
            EngineUrls[nodeId] = $"http://{address}:{serve}";
            _parts.Recipe("daemon-" + nodeId, ns, ["daemon", "--node-id", nodeId, "--socket", socket, "--group", "", "--peer-listen", $"{address}:{peer}",
                "--http-listen", $"{address}:{http}", "--secret-file", secret, "--backend", _spec.Backend, "--heartbeat", "1", .. etcd], DaemonHealth[nodeId]);
            _parts.Recipe(nodeId, ns, ["serve", "--role", role, "--model", _spec.Model, "--host", address, "--port", serve.ToString(CultureInfo.InvariantCulture),
                "--daemon", socket, "--layer-delay-ms", _spec.LayerDelayMs.ToString(CultureInfo.InvariantCulture), .. etcd], EngineUrls[nodeId] + "/health");
        }
        var proxyPort = _spec.ProxyPort > 0 ? _spec.ProxyPort : Port(30300);
        ProxyUrl = $"http://{hub}:{proxyPort}";
        _parts.Recipe("proxy", null, ["proxy", "--host", hub, "--port", proxyPort.ToString(CultureInfo.InvariantCulture),
            "--token-timeout", _spec.TokenTimeoutSeconds.ToString(CultureInfo.InvariantCulture), .. etcd], ProxyUrl + "/health");
        if (_spec.Colocated)
        {
            var port = ports[^1];
            ColocatedUrl = $"http://127.0.0.1:{port}";
            _parts.Recipe("colocated", null, ["serve", "--role", "colocated", "--model", _spec.Model, "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture)], ColocatedUrl + "/health");
        }

        // Daemons first (an engine registers its pool with its daemon at start), then engines and the proxy.
        await _parts.StartAllAsync(IsDaemon, ct).ConfigureAwait(false);
        await _parts.StartAllAsync(name => !IsDaemon(name), ct).ConfigureAwait(false);
        await WaitRoutableAsync(_spec.Prefill, _spec.Decode, TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
    }

    private static bool IsDaemon(string name) => name.StartsWith("daemon-", StringComparison.Ordinal);

    /// <summary>Waits until the proxy's /health lists this many prefill and decode instances.</summary>
    public async Task WaitRoutableAsync(int prefill, int decode, TimeSpan timeout, CancellationToken ct)
    {
        var last = "";
        try
        {
            await HealthProbe.WaitAsync(ProxyUrl + "/health", timeout, () => null, ct, body =>
            {
                last = body;
                try
                {
                    using var health = JsonDocument.Parse(body);
                    var root = health.RootElement;
                    return root.GetProperty("prefill").GetArrayLength() == prefill && root.GetProperty("decode").GetArrayLength() == decode;
                }
                catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    return false;
                }
            }).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the proxy did not see {prefill} prefill and {decode} decode instances within {timeout.TotalSeconds:0} s; its /health: {last}");
        }
    }

    /// <summary>Starts (or restarts after a kill) one part and waits until its /health answers.</summary>
    public Task StartPartAsync(string name, CancellationToken ct) => _parts.StartAsync(name, ct);

    /// <summary>SIGKILL a node's daemon and engine, as a crashed or powered-off node.</summary>
    public void KillNode(string nodeId)
    {
        _parts.Kill(nodeId);
        _parts.Kill("daemon-" + nodeId);
    }

    /// <summary>Starts a killed node again (daemon, then engine).</summary>
    public async Task RestartNodeAsync(string nodeId, CancellationToken ct)
    {
        await StartPartAsync("daemon-" + nodeId, ct).ConfigureAwait(false);
        await StartPartAsync(nodeId, ct).ConfigureAwait(false);
    }

    /// <summary>Stops every part and etcd, removes the namespaces, bridge and (unless <see cref="KeepLogs"/>) the work directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _parts.StopAllAsync().ConfigureAwait(false);
        if (Etcd is not null) await Etcd.DisposeAsync().ConfigureAwait(false);
        if (_network is not null) await _network.DisposeAsync().ConfigureAwait(false);
        if (!KeepLogs) Clusters.WorkDirectory.TryDelete(WorkDirectory);
    }

    /// <summary>Synchronous last-resort cleanup (process exit).</summary>
    public void KillNow()
    {
        _parts.KillAll();
        Etcd?.Kill();
        _network?.Dispose();
    }
}
