using PdRdma.Hosting.Network;

namespace PdRdma.Perf.Hosts;

/// <summary>
/// Where the two ends of a transfer run: a name for reports, the target's address, and the command prefix that
/// places a process on each side (e.g. <c>ip netns exec pdb-…-b</c>). The benchmark's own process stays where it is.
/// </summary>
public sealed record BenchPath(string Name, string TargetAddress, string InitiatorAddress, IReadOnlyList<string> TargetPrefix, IReadOnlyList<string> InitiatorPrefix)
{
    /// <summary>Both ends on this host's loopback, no namespaces.</summary>
    public static BenchPath OneHost { get; } = new("one-host", "127.0.0.1", "127.0.0.1", [], []);

    /// <summary>The target in namespace B, the initiator in A: two hosts as far as the network stack is concerned.</summary>
    public static BenchPath TwoHosts(NamespacePair pair) =>
        new("two-hosts", pair.AddressB, pair.AddressA, NamespacePair.Exec(pair.B), NamespacePair.Exec(pair.A));

    /// <summary>The command line that runs <paramref name="command"/> on the target's side.</summary>
    public string[] TargetCommand(params string[] command) => [.. TargetPrefix, .. command];

    /// <summary>The command line that runs <paramref name="command"/> on the initiator's side.</summary>
    public string[] InitiatorCommand(params string[] command) => [.. InitiatorPrefix, .. command];
}
