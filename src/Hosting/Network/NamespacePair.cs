using System.Globalization;
using System.Security.Cryptography;
using PdRdma.Hosting.Processes;

namespace PdRdma.Hosting.Network;

/// <summary>
/// Two network namespaces ("hosts") joined by a veth pair, 198.18.N.1 (A) and 198.18.N.2 (B), optionally with a
/// second veth from the root namespace to A (198.18.N+1.0/24) and routes, so that this process reaches both. Needs
/// root and iproute2 (<see cref="HostCapabilities.NamespacesUnavailableReason"/>). Names carry a caller's prefix and
/// a random suffix; disposing removes the namespaces and links, also after a failed create.
/// </summary>
public sealed class NamespacePair : IDisposable, IAsyncDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _rootLinks = [];
    private int _disposed;

    private NamespacePair(string prefix, string id, int octet)
    {
        A = $"{prefix}-{id}-a";
        B = $"{prefix}-{id}-b";
        AddressA = $"198.18.{octet}.1";
        AddressB = $"198.18.{octet}.2";
        LinkPrefix = prefix + id;
        Octet = octet;
    }

    /// <summary>Namespace A's name.</summary>
    public string A { get; }

    /// <summary>Namespace B's name.</summary>
    public string B { get; }

    /// <summary>A's address on the A–B link.</summary>
    public string AddressA { get; }

    /// <summary>B's address on the A–B link.</summary>
    public string AddressB { get; }

    /// <summary>A's address as the root namespace reaches it (only with reachableFromRoot), else null.</summary>
    public string? RootAddressOfA { get; private set; }

    private string LinkPrefix { get; }

    private int Octet { get; }

    /// <summary>The command prefix that runs a program inside <paramref name="ns"/>.</summary>
    public static string[] Exec(string ns) => ["ip", "netns", "exec", ns];

    /// <summary>Creates the pair. <paramref name="prefix"/>: at most 4 characters (interface names are limited to 15).</summary>
    /// <param name="prefix">Marks whose namespaces they are (pdt: transport tests, pdm: demo, pdb: benchmarks).</param>
    /// <param name="reachableFromRoot">Also link the root namespace to A and route to B through A.</param>
    /// <param name="ct">Cancels the creation (what was made is removed).</param>
    public static async Task<NamespacePair> CreateAsync(string prefix, bool reachableFromRoot, CancellationToken ct)
    {
        if (prefix.Length is 0 or > 4) throw new ArgumentException("a namespace prefix has 1 to 4 characters", nameof(prefix));
        if (HostCapabilities.NamespacesUnavailableReason() is { } why) throw new InvalidOperationException(why);
        var id = (Environment.ProcessId % 100000).ToString(CultureInfo.InvariantCulture) + RandomNumberGenerator.GetHexString(2, lowercase: true);
        var pair = new NamespacePair(prefix, id, 100 + Random.Shared.Next(0, 70) * 2);
        try
        {
            await pair.BuildAsync(reachableFromRoot, ct).ConfigureAwait(false);
            return pair;
        }
        catch
        {
            await pair.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task BuildAsync(bool reachableFromRoot, CancellationToken ct)
    {
        string ab = LinkPrefix + "ab", ba = LinkPrefix + "ba";
        await Ip(ct, "netns", "add", A).ConfigureAwait(false);
        _namespaces.Add(A);
        await Ip(ct, "netns", "add", B).ConfigureAwait(false);
        _namespaces.Add(B);
        await Ip(ct, "link", "add", ab, "type", "veth", "peer", "name", ba).ConfigureAwait(false);
        await Ip(ct, "link", "set", ab, "netns", A).ConfigureAwait(false);
        await Ip(ct, "link", "set", ba, "netns", B).ConfigureAwait(false);
        foreach (var (ns, dev, addr) in new[] { (A, ab, AddressA), (B, ba, AddressB) })
        {
            await Ip(ct, "-n", ns, "addr", "add", addr + "/24", "dev", dev).ConfigureAwait(false);
            await Ip(ct, "-n", ns, "link", "set", dev, "up").ConfigureAwait(false);
            await Ip(ct, "-n", ns, "link", "set", "lo", "up").ConfigureAwait(false);
        }
        if (!reachableFromRoot) return;
        string ra = LinkPrefix + "ra", ar = LinkPrefix + "ar";
        var a = $"198.18.{Octet}";
        var r = $"198.18.{Octet + 1}";
        await Ip(ct, "link", "add", ra, "type", "veth", "peer", "name", ar).ConfigureAwait(false);
        _rootLinks.Add(ra);
        await Ip(ct, "link", "set", ar, "netns", A).ConfigureAwait(false);
        await Ip(ct, "-n", A, "addr", "add", $"{r}.2/24", "dev", ar).ConfigureAwait(false);
        await Ip(ct, "-n", A, "link", "set", ar, "up").ConfigureAwait(false);
        await Ip(ct, "addr", "add", $"{r}.1/24", "dev", ra).ConfigureAwait(false);
        await Ip(ct, "link", "set", ra, "up").ConfigureAwait(false);
        // This process (root namespace) reaches B through A; B answers through A.
        await Ip(ct, "route", "add", $"{a}.0/24", "via", $"{r}.2", "dev", ra).ConfigureAwait(false);
        await Ip(ct, "-n", B, "route", "add", $"{r}.0/24", "via", AddressA).ConfigureAwait(false);
        await ChildProcess.RunCheckedAsync(ct, [.. Exec(A), "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]).ConfigureAwait(false);
        RootAddressOfA = $"{r}.2";
    }

    private static Task Ip(CancellationToken ct, params string[] args) => ChildProcess.RunCheckedAsync(ct, ["ip", .. args]);

    /// <summary>Removes the links and namespaces (what remains of them); idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var link in _rootLinks) await ChildProcess.TryRunAsync("ip", "link", "del", link).ConfigureAwait(false);
        foreach (var ns in _namespaces) await ChildProcess.TryRunAsync("ip", "netns", "del", ns).ConfigureAwait(false);
    }

    /// <summary>Synchronous <see cref="DisposeAsync"/> (last-resort cleanup at process exit).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var link in _rootLinks) ChildProcess.TryRun("ip", "link", "del", link);
        foreach (var ns in _namespaces) ChildProcess.TryRun("ip", "netns", "del", ns);
    }
}
