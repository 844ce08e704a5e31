using PdRdma.Perf.Processes;

namespace PdRdma.Perf.Hosts;

/// <summary>
/// Two network namespaces joined by a veth pair — two hosts as far as the network stack is concerned. Needs root and
/// iproute2. Created fresh (a leftover pair of the same name is removed first) and deleted on dispose.
/// </summary>
public sealed class NamespacePair : IAsyncDisposable
{
    public const string InitiatorNamespace = "pdb-a";
    public const string TargetNamespace = "pdb-b";
    public const string InitiatorAddress = "198.18.66.1";
    public const string TargetAddress = "198.18.66.2";

    private readonly string _ip;

    private NamespacePair(string ip)
    {
        _ip = ip;
        Path = new BenchPath("two-hosts", TargetAddress, InitiatorAddress,
            ["ip", "netns", "exec", TargetNamespace], ["ip", "netns", "exec", InitiatorNamespace]);
    }

    public BenchPath Path { get; }

    /// <summary>Why namespaces cannot be made here, or null when they can.</summary>
    public static string? UnavailableReason()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (!Environment.IsPrivilegedProcess) return "network namespaces need root (run as root for the two-hosts path)";
        if (ExternalTool.Find("ip") is null) return "iproute2's `ip` is not installed";
        return null;
    }

    public static async Task<NamespacePair> CreateAsync(CancellationToken ct)
    {
        var ip = ExternalTool.Find("ip") ?? throw new InvalidOperationException("iproute2's `ip` is not installed");
        var pair = new NamespacePair(ip);
        await pair.DeleteAsync(ct);
        try
        {
            await pair.IpAsync(ct, "netns", "add", InitiatorNamespace);
            await pair.IpAsync(ct, "netns", "add", TargetNamespace);
            await pair.IpAsync(ct, "link", "add", "pdb-va", "netns", InitiatorNamespace, "type", "veth", "peer", "name", "pdb-vb", "netns", TargetNamespace);
            await pair.IpAsync(ct, "-n", InitiatorNamespace, "addr", "add", InitiatorAddress + "/24", "dev", "pdb-va");
            await pair.IpAsync(ct, "-n", TargetNamespace, "addr", "add", TargetAddress + "/24", "dev", "pdb-vb");
            foreach (var (ns, dev) in new[] { (InitiatorNamespace, "pdb-va"), (TargetNamespace, "pdb-vb"), (InitiatorNamespace, "lo"), (TargetNamespace, "lo") })
            {
                await pair.IpAsync(ct, "-n", ns, "link", "set", dev, "up");
            }
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
        return pair;
    }

    public async ValueTask DisposeAsync() => await DeleteAsync(CancellationToken.None);

    private async Task DeleteAsync(CancellationToken ct)
    {
        foreach (var ns in new[] { InitiatorNamespace, TargetNamespace })
        {
            if (File.Exists($"/run/netns/{ns}")) await ChildProcess.RunAsync(_ip, ["netns", "del", ns], TimeSpan.FromSeconds(10), ct);
        }
    }

    private async Task IpAsync(CancellationToken ct, params string[] args)
    {
        var (exit, _, stderr) = await ChildProcess.RunAsync(_ip, args, TimeSpan.FromSeconds(10), ct);
        if (exit != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)} failed ({exit}): {stderr.Trim()}");
    }
}
