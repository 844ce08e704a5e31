using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace PdRdma.Cli.Demo;

/// <summary>
/// Two nodes on this machine — two network namespaces joined by veth (198.18.x.y) when root, two sets of loopback
/// ports otherwise — each with a daemon and an engine (prefill on A, decode on B), plus the proxy and a colocated
/// engine on A. Disposing stops every process it started and removes its namespaces, links and files.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly ClusterSpec _spec;
    private readonly List<string> _namespaces = [];
    private readonly List<string> _rootLinks = [];
    private readonly Dictionary<string, ChildProcess> _parts = new(StringComparer.Ordinal);
    private int _disposed;

    private LocalCluster(ClusterSpec spec, string work)
    {
        _spec = spec;
        WorkDirectory = work;
    }

    public string WorkDirectory { get; }

    /// <summary>Keep <see cref="WorkDirectory"/> (logs, secret) after dispose, e.g. to look at a failure.</summary>
    public bool KeepLogs { get; set; }

    public string Topology { get; private set; } = "";

    public string ProxyUrl { get; private set; } = "";
    public string ColocatedUrl { get; private set; } = "";
    public string PrefillUrl { get; private set; } = "";
    public string DecodeUrl { get; private set; } = "";
    public string DaemonAHealth { get; private set; } = "";
    public string DaemonBHealth { get; private set; } = "";

    public IReadOnlyDictionary<string, ChildProcess> Parts => _parts;

    private readonly Dictionary<string, (string? Namespace, string[] Args, string Ready)> _recipes = new(StringComparer.Ordinal);

    public static bool CanUseNamespaces =>
        Environment.UserName == "root" && (File.Exists("/usr/sbin/ip") || File.Exists("/sbin/ip") || File.Exists("/usr/bin/ip") || File.Exists("/bin/ip"));

    public static async Task<LocalCluster> StartAsync(ClusterSpec spec, CancellationToken ct)
    {
        var work = spec.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"{spec.Prefix}-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}");
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
        var secret = _spec.SecretFile ?? Path.Combine(WorkDirectory, "cluster.key");
        if (_spec.SecretFile is null)
        {
            await File.WriteAllBytesAsync(secret, RandomNumberGenerator.GetBytes(32), ct).ConfigureAwait(false);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(secret, UnixFileMode.UserRead);
        }

        string addrA, addrB, hostA, nsA = "", nsB = "";
        int peerA, peerB, httpA, httpB, prefillPort, decodePort, colocatedPort, proxyPort;
        if (_spec.NodeAddresses is { } nodes)
        {
            addrA = hostA = nodes.A;
            addrB = nodes.B;
            // Below Linux's ephemeral range (32768-60999): a fixed listen port inside it can collide with an outbound connection of the same host.
            (peerA, peerB, httpA, httpB, prefillPort, decodePort, colocatedPort, proxyPort) = (30100, 30100, 30190, 30190, 30200, 30201, 30202, 30300);
            Topology = $"node A at {addrA}, node B at {addrB} (separate hosts)";
        }
        else if (_spec.Namespaces)
        {
            var id = (Environment.ProcessId % 100000).ToString(CultureInfo.InvariantCulture) + RandomNumberGenerator.GetHexString(2, lowercase: true);
            var octet = 100 + Random.Shared.Next(0, 70) * 2; // 198.18.<octet>.0/24 between nodes, <octet+1> root↔A
            nsA = $"{_spec.Prefix}-{id}-a";
            nsB = $"{_spec.Prefix}-{id}-b";
            await NetnsAsync(nsA, nsB, $"{_spec.Prefix}{id}", octet, ct).ConfigureAwait(false);
            addrA = $"198.18.{octet}.1";
            addrB = $"198.18.{octet}.2";
            hostA = $"198.18.{octet + 1}.2";
            // Below the ephemeral range, as for separate hosts: an outbound connection inside a namespace can take any port in it.
            (peerA, peerB, httpA, httpB, prefillPort, decodePort, colocatedPort, proxyPort) = (30100, 30100, 30190, 30190, 30200, 30201, 30202, 30300);
            Topology = $"two network namespaces {nsA} ({addrA}) and {nsB} ({addrB}) joined by veth";
        }
        else
        {
            addrA = addrB = hostA = "127.0.0.1";
            var ports = FreePorts(8);
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
        string Ns(string ns) => ns.Length == 0 ? "" : ns;
        // Under TCG a verbs handshake (memory registration) and the first calls (JIT) take tens of seconds.
        string[] slowDaemon = _spec.SlowHost ? ["--connect-timeout", "120", "--handshake-timeout", "120"] : [];
        string[] slowEngine = _spec.SlowHost ? ["--daemon-timeout", "240"] : [];
        string[] slowProxy = _spec.SlowHost ? ["--control-timeout", "120"] : [];
        var prefillTimeout = _spec.SlowHost ? "300" : "60";
        var heartbeat = _spec.SlowHost ? "15" : "1"; // a heartbeat is bounded by twice its period

        Recipe("daemon-a", Ns(nsA), ["daemon", "--node-id", "node-a", "--socket", sockA, "--group", "", "--peer-listen", $"{addrA}:{peerA}",
            "--http-listen", $"{httpHostA}:{httpA}", "--secret-file", secret, "--backend", _spec.Backend, "--lease-ttl", _spec.LeaseTtlSeconds.ToString(CultureInfo.InvariantCulture), "--heartbeat", heartbeat, .. slowDaemon], DaemonAHealth);
        Recipe("daemon-b", Ns(nsB), ["daemon", "--node-id", "node-b", "--socket", sockB, "--group", "", "--peer-listen", $"{addrB}:{peerB}",
            "--http-listen", $"{httpHostB}:{httpB}", "--secret-file", secret, "--backend", _spec.Backend, "--lease-ttl", _spec.LeaseTtlSeconds.ToString(CultureInfo.InvariantCulture), "--heartbeat", heartbeat, .. slowDaemon], DaemonBHealth);
        Recipe("prefill", Ns(nsA), ["serve", "--role", "prefill", "--model", _spec.Model, "--host", hostA, "--port", $"{prefillPort}", "--daemon", sockA,
            "--layer-delay-ms", _spec.LayerDelayMs.ToString(CultureInfo.InvariantCulture), .. slowEngine], PrefillUrl + "/health");
        Recipe("decode", Ns(nsB), ["serve", "--role", "decode", "--model", _spec.Model, "--host", httpHostB, "--port", $"{decodePort}", "--daemon", sockB,
            "--lease-ttl", _spec.LeaseTtlSeconds.ToString(CultureInfo.InvariantCulture), .. slowEngine], DecodeUrl + "/health");
        Recipe("proxy", Ns(nsA), ["proxy", "--prefill", PrefillUrl, "--decode", DecodeUrl, "--host", hostA, "--port", $"{proxyPort}",
            "--token-timeout", _spec.TokenTimeoutSeconds.ToString(CultureInfo.InvariantCulture), "--prefill-timeout", prefillTimeout, .. slowProxy], ProxyUrl + "/health");
        if (_spec.Colocated)
            Recipe("colocated", Ns(nsA), ["serve", "--role", "colocated", "--model", _spec.Model, "--host", hostA, "--port", $"{colocatedPort}"], ColocatedUrl + "/health");

        if (_spec.OnlyNode is { } only)
        {
            string[] mine = only == "a" ? ["daemon-a", "prefill", "proxy", "colocated"] : ["daemon-b", "decode"];
            foreach (var name in _recipes.Keys.Where(k => !mine.Contains(k)).ToList()) _recipes.Remove(name);
        }

        // Daemons first (engines register their pools at start), then everything else in parallel.
        await Task.WhenAll(_recipes.Keys.Where(k => k.StartsWith("daemon", StringComparison.Ordinal)).ToList().Select(k => StartPartAsync(k, ct))).ConfigureAwait(false);
        var rest = _recipes.Keys.Where(k => !k.StartsWith("daemon", StringComparison.Ordinal)).ToList().Select(k => StartPartAsync(k, ct));
        await Task.WhenAll(rest).ConfigureAwait(false);
    }

    private readonly List<int> _pids = [];

    /// <summary>Region files of parts that died by SIGKILL stay in /dev/shm; remove those of every process we started.</summary>
    private void RemoveRegionFiles()
    {
        var directory = Transport.HostRegion.DefaultDirectory;
        List<int> pids;
        lock (_pids) pids = [.. _pids];
        foreach (var pid in pids)
        {
            try
            {
                foreach (var file in Directory.EnumerateFiles(directory, $"pdrdma.{pid}.*")) File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private void Recipe(string name, string ns, string[] args, string ready) => _recipes[name] = (ns.Length == 0 ? null : ns, args, ready);

    /// <summary>Starts (or restarts after a kill) one part and waits until its /health answers.</summary>
    public async Task StartPartAsync(string name, CancellationToken ct)
    {
        var (ns, args, ready) = _recipes[name];
        if (_parts.Remove(name, out var old)) old.Dispose();
        var command = new List<string>();
        if (ns is not null) command.AddRange(["ip", "netns", "exec", ns]);
        command.AddRange(SelfCommand());
        command.AddRange(args);
        var part = ChildProcess.Start(name, command.ToArray(), Path.Combine(_spec.LogDirectory ?? WorkDirectory, name + ".log"));
        lock (_parts) _parts[name] = part;
        lock (_pids) _pids.Add(part.Pid);
        await WaitHealthyAsync(part, ready, TimeSpan.FromSeconds(_spec.SlowHost ? 300 : 90), ct).ConfigureAwait(false);
    }

    public static string[] SelfCommand()
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var dll = Path.Combine(AppContext.BaseDirectory, "pdrdma.dll");
        return Path.GetFileNameWithoutExtension(host) == "dotnet" || !File.Exists(host) || Path.GetFileName(host) != "pdrdma"
            ? [DotnetHost(host), dll]
            : [host];
    }

    private static string DotnetHost(string processPath) =>
        Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";

    /// <summary>Waits until <paramref name="url"/> answers 2xx (a part on another host); <paramref name="failed"/> returns why the other side gave up, if it did.</summary>
    public static async Task WaitReachableAsync(string url, TimeSpan timeout, Func<string?> failed, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            ct.ThrowIfCancellationRequested();
            if (failed() is { } why) throw new InvalidOperationException(why);
            try
            {
                using var response = await http.GetAsync(url, ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
            await Task.Delay(500, ct).ConfigureAwait(false);
        }
        throw new TimeoutException($"{url} did not answer within {timeout.TotalSeconds:0} s");
    }

    private static async Task WaitHealthyAsync(ChildProcess part, string url, TimeSpan timeout, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            ct.ThrowIfCancellationRequested();
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

    private async Task NetnsAsync(string nsA, string nsB, string link, int octet, CancellationToken ct)
    {
        string ab = link + "ab", ba = link + "ba", ra = link + "ra", ar = link + "ar";
        await IpAsync(ct, "netns", "add", nsA).ConfigureAwait(false);
        _namespaces.Add(nsA);
        await IpAsync(ct, "netns", "add", nsB).ConfigureAwait(false);
        _namespaces.Add(nsB);
        await IpAsync(ct, "link", "add", ab, "type", "veth", "peer", "name", ba).ConfigureAwait(false);
        await IpAsync(ct, "link", "set", ab, "netns", nsA).ConfigureAwait(false);
        await IpAsync(ct, "link", "set", ba, "netns", nsB).ConfigureAwait(false);
        await IpAsync(ct, "link", "add", ra, "type", "veth", "peer", "name", ar).ConfigureAwait(false);
        _rootLinks.Add(ra);
        await IpAsync(ct, "link", "set", ar, "netns", nsA).ConfigureAwait(false);
        var a = $"198.18.{octet}";
        var r = $"198.18.{octet + 1}";
        foreach (var (ns, dev, addr) in new[] { (nsA, ab, $"{a}.1/24"), (nsB, ba, $"{a}.2/24"), (nsA, ar, $"{r}.2/24") })
        {
            await IpAsync(ct, "-n", ns, "addr", "add", addr, "dev", dev).ConfigureAwait(false);
            await IpAsync(ct, "-n", ns, "link", "set", dev, "up").ConfigureAwait(false);
        }
        await IpAsync(ct, "-n", nsA, "link", "set", "lo", "up").ConfigureAwait(false);
        await IpAsync(ct, "-n", nsB, "link", "set", "lo", "up").ConfigureAwait(false);
        await IpAsync(ct, "addr", "add", $"{r}.1/24", "dev", ra).ConfigureAwait(false);
        await IpAsync(ct, "link", "set", ra, "up").ConfigureAwait(false);
        // The demo (root namespace) reaches node B through A; B answers through A.
        await IpAsync(ct, "route", "add", $"{a}.0/24", "via", $"{r}.2", "dev", ra).ConfigureAwait(false);
        await IpAsync(ct, "-n", nsB, "route", "add", $"{r}.0/24", "via", $"{a}.1").ConfigureAwait(false);
        await RunAsync(ct, "ip", "netns", "exec", nsA, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1").ConfigureAwait(false);
    }

    private static Task IpAsync(CancellationToken ct, params string[] args) => RunAsync(ct, ["ip", .. args]);

    /// <summary>Runs a host command (ip, sysctl) to its end; a non-zero exit is an InvalidOperationException with its stderr.</summary>
    internal static async Task RunAsync(CancellationToken ct, params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in command[1..]) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {command[0]}");
        var errors = await process.StandardError.ReadToEndAsync(ct).ConfigureAwait(false);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        if (process.ExitCode != 0) throw new InvalidOperationException($"`{string.Join(' ', command)}` failed: {errors.Trim()}");
    }

    /// <summary><paramref name="count"/> distinct loopback ports free at the time of the call.</summary>
    internal static int[] FreePorts(int count)
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

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        List<ChildProcess> parts;
        lock (_parts) parts = [.. _parts.Values];
        await Task.WhenAll(parts.Select(p => p.StopAsync(TimeSpan.FromSeconds(3)))).ConfigureAwait(false);
        foreach (var part in parts) part.Dispose();
        RemoveRegionFiles();
        foreach (var link in _rootLinks) await TryAsync("ip", "link", "del", link).ConfigureAwait(false);
        foreach (var ns in _namespaces) await TryAsync("ip", "netns", "del", ns).ConfigureAwait(false);
        if (!KeepLogs)
        {
            try { Directory.Delete(WorkDirectory, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>Synchronous last-resort cleanup (process exit, Ctrl-C).</summary>
    public void KillNow()
    {
        List<ChildProcess> parts;
        lock (_parts) parts = [.. _parts.Values];
        foreach (var part in parts) part.Kill();
        RemoveRegionFiles();
        foreach (var link in _rootLinks) Try("ip", "link", "del", link);
        foreach (var ns in _namespaces) Try("ip", "netns", "del", ns);
    }

    private static async Task TryAsync(params string[] command)
    {
        try { await RunAsync(CancellationToken.None, command).ConfigureAwait(false); }
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
