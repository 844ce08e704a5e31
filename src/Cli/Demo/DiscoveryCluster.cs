using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace PdRdma.Cli.Demo;

/// <summary>
/// N prefill and M decode nodes on this machine that find each other through etcd: each node a daemon and an
/// engine registered in etcd (one network namespace per node on a bridge when root, loopback ports otherwise),
/// an etcd (started here unless one is given) and a proxy that watches the directory. No part is told about
/// another part except etcd's URL. Disposing stops every process and removes the namespaces, bridge and files.
/// </summary>
public sealed class DiscoveryCluster : IAsyncDisposable
{
    private readonly DiscoverySpec _spec;
    private readonly Dictionary<string, ChildProcess> _parts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string? Namespace, string[] Args, string Ready)> _recipes = new(StringComparer.Ordinal);
    private readonly List<string> _namespaces = [];
    private readonly List<int> _pids = [];
    private string? _bridge;
    private int _disposed;

    private DiscoveryCluster(DiscoverySpec spec, string work)
    {
        _spec = spec;
        WorkDirectory = work;
    }

    public string WorkDirectory { get; }

    public bool KeepLogs { get; set; }

    public string Topology { get; private set; } = "";

    public EtcdServer? Etcd { get; private set; }

    public string EtcdUrl { get; private set; } = "";

    public string ProxyUrl { get; private set; } = "";

    public string ColocatedUrl { get; private set; } = "";

    /// <summary>Node id → engine URL, e.g. "d1" → http://127.0.0.1:40123.</summary>
    public Dictionary<string, string> EngineUrls { get; } = new(StringComparer.Ordinal);

    /// <summary>Node id → daemon /health URL.</summary>
    public Dictionary<string, string> DaemonHealth { get; } = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, ChildProcess> Parts => _parts;

    public static async Task<DiscoveryCluster> StartAsync(DiscoverySpec spec, CancellationToken ct)
    {
        if (spec.Prefill is < 1 or > 32 || spec.Decode is < 1 or > 32) throw new ArgumentException("--prefill and --decode must be in [1, 32]");
        var work = spec.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"{spec.Prefix}-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
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
        var secret = Path.Combine(WorkDirectory, "cluster.key");
        await File.WriteAllBytesAsync(secret, RandomNumberGenerator.GetBytes(32), ct).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(secret, UnixFileMode.UserRead);
        var nodes = Enumerable.Range(0, _spec.Prefill).Select(i => (Id: $"p{i}", Role: "prefill"))
            .Concat(Enumerable.Range(0, _spec.Decode).Select(i => (Id: $"d{i}", Role: "decode"))).ToList();

        string hub; // where etcd and the proxy listen
        var addresses = new Dictionary<string, string>(StringComparer.Ordinal);
        if (_spec.Namespaces)
        {
            var id = (Environment.ProcessId % 100000).ToString(CultureInfo.InvariantCulture) + RandomNumberGenerator.GetHexString(2, lowercase: true);
            var octet = 100 + Random.Shared.Next(0, 150);
            hub = $"198.18.{octet}.254";
            await BridgeAsync(id, octet, nodes.Select(n => n.Id).ToList(), addresses, ct).ConfigureAwait(false);
            Topology = $"{nodes.Count} network namespaces on bridge {_bridge} (198.18.{octet}.0/24), etcd and proxy on {hub}";
        }
        else
        {
            hub = "127.0.0.1";
            foreach (var node in nodes) addresses[node.Id] = "127.0.0.1";
            Topology = $"{nodes.Count} nodes on loopback ports" + (LocalCluster.CanUseNamespaces ? "" : " (not root, or no iproute2: no network namespaces)");
        }
        var ports = LocalCluster.FreePorts(3 * nodes.Count + 4);
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
            var address = addresses[nodeId];
            var ns = _namespaces.FirstOrDefault(n => n.EndsWith("-" + nodeId, StringComparison.Ordinal));
            var socket = Path.Combine(WorkDirectory, nodeId + ".sock");
            var http = Port(30190);
            var peer = Port(30100);
            var serve = Port(30200);
            DaemonHealth[nodeId] = $"http://{address}:{http}/health";
            EngineUrls[nodeId] = $"http://{address}:{serve}";
            _recipes["daemon-" + nodeId] = (ns, ["daemon", "--node-id", nodeId, "--socket", socket, "--group", "", "--peer-listen", $"{address}:{peer}",
                "--http-listen", $"{address}:{http}", "--secret-file", secret, "--backend", _spec.Backend, "--heartbeat", "1", .. etcd], DaemonHealth[nodeId]);
            _recipes[nodeId] = (ns, ["serve", "--role", role, "--model", _spec.Model, "--host", address, "--port", serve.ToString(CultureInfo.InvariantCulture),
                "--daemon", socket, "--layer-delay-ms", _spec.LayerDelayMs.ToString(CultureInfo.InvariantCulture), .. etcd], EngineUrls[nodeId] + "/health");
        }
        var proxyPort = _spec.ProxyPort > 0 ? _spec.ProxyPort : Port(30300);
        ProxyUrl = $"http://{hub}:{proxyPort}";
        _recipes["proxy"] = (null, ["proxy", "--host", hub, "--port", proxyPort.ToString(CultureInfo.InvariantCulture),
            "--token-timeout", _spec.TokenTimeoutSeconds.ToString(CultureInfo.InvariantCulture), .. etcd], ProxyUrl + "/health");
        if (_spec.Colocated)
        {
            var port = ports[^1];
            ColocatedUrl = $"http://127.0.0.1:{port}";
            _recipes["colocated"] = (null, ["serve", "--role", "colocated", "--model", _spec.Model, "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture)], ColocatedUrl + "/health");
        }

        // Daemons first (an engine registers its pool with its daemon at start), then engines and the proxy.
        await Task.WhenAll(_recipes.Keys.Where(k => k.StartsWith("daemon-", StringComparison.Ordinal)).ToList().Select(k => StartPartAsync(k, ct))).ConfigureAwait(false);
        await Task.WhenAll(_recipes.Keys.Where(k => !k.StartsWith("daemon-", StringComparison.Ordinal)).ToList().Select(k => StartPartAsync(k, ct))).ConfigureAwait(false);
        await WaitRoutableAsync(_spec.Prefill, _spec.Decode, TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
    }

    /// <summary>Waits until the proxy's /health lists this many prefill and decode instances.</summary>
    public async Task WaitRoutableAsync(int prefill, int decode, TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        var last = "";
        while (clock.Elapsed < timeout)
        {
            try
            {
                using var health = JsonDocument.Parse(await http.GetStringAsync(ProxyUrl + "/health", ct).ConfigureAwait(false));
                var root = health.RootElement;
                last = root.ToString();
                if (root.GetProperty("prefill").GetArrayLength() == prefill && root.GetProperty("decode").GetArrayLength() == decode) return;
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
        throw new TimeoutException($"the proxy did not see {prefill} prefill and {decode} decode instances within {timeout.TotalSeconds:0} s; its /health: {last}");
    }

    /// <summary>Starts (or restarts after a kill) one part and waits until its /health answers.</summary>
    public async Task StartPartAsync(string name, CancellationToken ct)
    {
        var (ns, args, ready) = _recipes[name];
        ChildProcess? old;
        lock (_parts) _parts.Remove(name, out old);
        old?.Dispose();
        var command = new List<string>();
        if (ns is not null) command.AddRange(["ip", "netns", "exec", ns]);
        command.AddRange(LocalCluster.SelfCommand());
        command.AddRange(args);
        var part = ChildProcess.Start(name, command.ToArray(), Path.Combine(WorkDirectory, name + ".log"));
        lock (_parts) _parts[name] = part;
        lock (_pids) _pids.Add(part.Pid);
        await WaitHealthyAsync(part, ready, TimeSpan.FromSeconds(120), ct).ConfigureAwait(false);
    }

    /// <summary>SIGKILL a node's daemon and engine, as a crashed or powered-off node.</summary>
    public void KillNode(string nodeId)
    {
        lock (_parts)
        {
            _parts[nodeId].Kill();
            _parts["daemon-" + nodeId].Kill();
        }
    }

    /// <summary>Starts a killed node again (daemon, then engine).</summary>
    public async Task RestartNodeAsync(string nodeId, CancellationToken ct)
    {
        await StartPartAsync("daemon-" + nodeId, ct).ConfigureAwait(false);
        await StartPartAsync(nodeId, ct).ConfigureAwait(false);
    }

    private static async Task WaitHealthyAsync(ChildProcess part, string url, TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (part.HasExited)
                throw new InvalidOperationException($"{part.Name} exited during start; its log ({part.LogPath}) ends with:\n{part.Tail()}");
            try
            {
                using var response = await http.GetAsync(url, ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
        throw new TimeoutException($"{part.Name} did not become healthy at {url} within {timeout.TotalSeconds:0} s; log {part.LogPath}:\n{part.Tail()}");
    }

    private async Task BridgeAsync(string id, int octet, IReadOnlyList<string> nodeIds, Dictionary<string, string> addresses, CancellationToken ct)
    {
        _bridge = $"{_spec.Prefix}{id}br";
        await LocalCluster.RunAsync(ct, "ip", "link", "add", _bridge, "type", "bridge").ConfigureAwait(false);
        await LocalCluster.RunAsync(ct, "ip", "addr", "add", $"198.18.{octet}.254/24", "dev", _bridge).ConfigureAwait(false);
        await LocalCluster.RunAsync(ct, "ip", "link", "set", _bridge, "up").ConfigureAwait(false);
        for (var k = 0; k < nodeIds.Count; k++)
        {
            var ns = $"{_spec.Prefix}-{id}-{nodeIds[k]}";
            string outer = $"{_spec.Prefix}{id}o{k}", inner = $"{_spec.Prefix}{id}i{k}";
            await LocalCluster.RunAsync(ct, "ip", "netns", "add", ns).ConfigureAwait(false);
            _namespaces.Add(ns);
            await LocalCluster.RunAsync(ct, "ip", "link", "add", outer, "type", "veth", "peer", "name", inner).ConfigureAwait(false);
            await LocalCluster.RunAsync(ct, "ip", "link", "set", inner, "netns", ns).ConfigureAwait(false);
            await LocalCluster.RunAsync(ct, "ip", "link", "set", outer, "master", _bridge).ConfigureAwait(false);
            await LocalCluster.RunAsync(ct, "ip", "link", "set", outer, "up").ConfigureAwait(false);
            addresses[nodeIds[k]] = $"198.18.{octet}.{k + 1}";
            await LocalCluster.RunAsync(ct, "ip", "-n", ns, "addr", "add", $"198.18.{octet}.{k + 1}/24", "dev", inner).ConfigureAwait(false);
            await LocalCluster.RunAsync(ct, "ip", "-n", ns, "link", "set", inner, "up").ConfigureAwait(false);
            await LocalCluster.RunAsync(ct, "ip", "-n", ns, "link", "set", "lo", "up").ConfigureAwait(false);
        }
    }

    private void RemoveRegionFiles()
    {
        List<int> pids;
        lock (_pids) pids = [.. _pids];
        foreach (var pid in pids)
        {
            try
            {
                foreach (var file in Directory.EnumerateFiles(Transport.HostRegion.DefaultDirectory, $"pdrdma.{pid}.*")) File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        List<ChildProcess> parts;
        lock (_parts) parts = [.. _parts.Values];
        await Task.WhenAll(parts.Select(p => p.StopAsync(TimeSpan.FromSeconds(3)))).ConfigureAwait(false);
        foreach (var part in parts) part.Dispose();
        if (Etcd is not null) await Etcd.DisposeAsync().ConfigureAwait(false);
        RemoveRegionFiles();
        foreach (var ns in _namespaces) await TryAsync("ip", "netns", "del", ns).ConfigureAwait(false);
        if (_bridge is not null) await TryAsync("ip", "link", "del", _bridge).ConfigureAwait(false);
        if (!KeepLogs)
        {
            try { Directory.Delete(WorkDirectory, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Synchronous last-resort cleanup (process exit).</summary>
    public void KillNow()
    {
        List<ChildProcess> parts;
        lock (_parts) parts = [.. _parts.Values];
        foreach (var part in parts) part.Kill();
        Etcd?.KillNow();
        RemoveRegionFiles();
        foreach (var ns in _namespaces) Try("ip", "netns", "del", ns);
        if (_bridge is not null) Try("ip", "link", "del", _bridge);
    }

    private static async Task TryAsync(params string[] command)
    {
        try { await LocalCluster.RunAsync(CancellationToken.None, command).ConfigureAwait(false); }
        catch (InvalidOperationException) { }
    }

    private static void Try(params string[] command)
    {
        try
        {
            var info = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in command[1..]) info.ArgumentList.Add(arg);
            using var process = Process.Start(info);
            process?.WaitForExit(5000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }
}
