using System.Diagnostics;

namespace PdRdma.Tests.Transport.Support;

/// <summary>
/// Two network namespaces ("hosts") joined by a veth pair, addresses 198.18.N.1 and 198.18.N.2. Names carry the
/// transport prefix `pdt-` and a random suffix; both namespaces are deleted on dispose, also after a failure.
/// </summary>
public sealed class NetnsPair : IDisposable
{
    private NetnsPair(string suffix, int subnet)
    {
        A = $"pdt-{suffix}-a";
        B = $"pdt-{suffix}-b";
        AddressA = $"198.18.{subnet}.1";
        AddressB = $"198.18.{subnet}.2";
    }

    public string A { get; }
    public string B { get; }
    public string AddressA { get; }
    public string AddressB { get; }

    public static NetnsPair Create()
    {
        var suffix = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6];
        var pair = new NetnsPair(suffix, Random.Shared.Next(100, 200));
        try
        {
            var vethA = $"pdt{suffix}a";
            var vethB = $"pdt{suffix}b";
            Ip($"netns add {pair.A}");
            Ip($"netns add {pair.B}");
            Ip($"link add {vethA} type veth peer name {vethB}");
            Ip($"link set {vethA} netns {pair.A}");
            Ip($"link set {vethB} netns {pair.B}");
            Ip($"-n {pair.A} addr add {pair.AddressA}/24 dev {vethA}");
            Ip($"-n {pair.B} addr add {pair.AddressB}/24 dev {vethB}");
            foreach (var (ns, dev) in new[] { (pair.A, vethA), (pair.B, vethB) })
            {
                Ip($"-n {ns} link set {dev} up");
                Ip($"-n {ns} link set lo up");
            }
            return pair;
        }
        catch
        {
            pair.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var ns in new[] { A, B })
        {
            try { Ip($"netns del {ns}"); } catch (InvalidOperationException) { }
        }
    }

    private static void Ip(string args)
    {
        var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args.Split(' ')) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(10_000) || p.ExitCode != 0) throw new InvalidOperationException($"ip {args} failed: {err}");
    }
}
