using System.Globalization;
using System.Security.Cryptography;
using PdRdma.Hosting.Processes;

namespace PdRdma.Hosting.Network;

/// <summary>
/// One network namespace per node on a Linux bridge in the root namespace: nodes at 198.18.N.k, the root namespace
/// (etcd, the proxy) at 198.18.N.254. Needs root and iproute2. Disposing removes the namespaces and the bridge.
/// </summary>
public sealed class NamespaceBridge : IDisposable, IAsyncDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly Dictionary<string, (string Namespace, string Address)> _nodes = new(StringComparer.Ordinal);
    private readonly string _prefix;
    private readonly string _id;
    private string? _bridge;
    private int _disposed;

    private NamespaceBridge(string prefix, string id, int octet)
    {
        _prefix = prefix;
        _id = id;
        HubAddress = $"198.18.{octet}.254";
        Subnet = $"198.18.{octet}.0/24";
        Octet = octet;
    }

    /// <summary>The root namespace's address on the bridge.</summary>
    public string HubAddress { get; }

    /// <summary>The bridge's subnet.</summary>
    public string Subnet { get; }

    /// <summary>The bridge interface's name.</summary>
    public string BridgeName => _bridge ?? "";

    private int Octet { get; }

    /// <summary>Node id → (namespace, address).</summary>
    public IReadOnlyDictionary<string, (string Namespace, string Address)> Nodes => _nodes;

    /// <summary>Creates the bridge and one namespace per node id. <paramref name="prefix"/>: at most 4 characters.</summary>
    public static async Task<NamespaceBridge> CreateAsync(string prefix, IReadOnlyList<string> nodeIds, CancellationToken ct)
    {
        if (prefix.Length is 0 or > 4) throw new ArgumentException("a namespace prefix has 1 to 4 characters", nameof(prefix));
        if (HostCapabilities.NamespacesUnavailableReason() is { } why) throw new InvalidOperationException(why);
        var id = (Environment.ProcessId % 100000).ToString(CultureInfo.InvariantCulture) + RandomNumberGenerator.GetHexString(2, lowercase: true);
        var bridge = new NamespaceBridge(prefix, id, 100 + Random.Shared.Next(0, 150));
        try
        {
            await bridge.BuildAsync(nodeIds, ct).ConfigureAwait(false);
            return bridge;
        }
        catch
        {
            await bridge.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task BuildAsync(IReadOnlyList<string> nodeIds, CancellationToken ct)
    {
        var bridge = $"{_prefix}{_id}br";
        await Ip(ct, "link", "add", bridge, "type", "bridge").ConfigureAwait(false);
        _bridge = bridge;
        await Ip(ct, "addr", "add", HubAddress + "/24", "dev", bridge).ConfigureAwait(false);
        await Ip(ct, "link", "set", bridge, "up").ConfigureAwait(false);
        for (var k = 0; k < nodeIds.Count; k++)
        {
            var ns = $"{_prefix}-{_id}-{nodeIds[k]}";
            string outer = $"{_prefix}{_id}o{k}", inner = $"{_prefix}{_id}i{k}";
            var address = $"198.18.{Octet}.{k + 1}";
            await Ip(ct, "netns", "add", ns).ConfigureAwait(false);
            _namespaces.Add(ns);
            await Ip(ct, "link", "add", outer, "type", "veth", "peer", "name", inner).ConfigureAwait(false);
            await Ip(ct, "link", "set", inner, "netns", ns).ConfigureAwait(false);
            await Ip(ct, "link", "set", outer, "master", bridge).ConfigureAwait(false);
            await Ip(ct, "link", "set", outer, "up").ConfigureAwait(false);
            await Ip(ct, "-n", ns, "addr", "add", address + "/24", "dev", inner).ConfigureAwait(false);
            await Ip(ct, "-n", ns, "link", "set", inner, "up").ConfigureAwait(false);
            await Ip(ct, "-n", ns, "link", "set", "lo", "up").ConfigureAwait(false);
            _nodes[nodeIds[k]] = (ns, address);
        }
    }

    private static Task Ip(CancellationToken ct, params string[] args) => ChildProcess.RunCheckedAsync(ct, ["ip", .. args]);

    /// <summary>Removes the namespaces and the bridge; idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var ns in _namespaces) await ChildProcess.TryRunAsync("ip", "netns", "del", ns).ConfigureAwait(false);
        if (_bridge is not null) await ChildProcess.TryRunAsync("ip", "link", "del", _bridge).ConfigureAwait(false);
    }

    /// <summary>Synchronous <see cref="DisposeAsync"/> (last-resort cleanup at process exit).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var ns in _namespaces) ChildProcess.TryRun("ip", "netns", "del", ns);
        if (_bridge is not null) ChildProcess.TryRun("ip", "link", "del", _bridge);
    }
}
