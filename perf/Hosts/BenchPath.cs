namespace PdRdma.Perf.Hosts;

/// <summary>
/// Where the two ends of a transfer run: a name for reports, the target's address, and the command prefix that
/// places a process on each side (e.g. <c>ip netns exec pdb-b</c>). The benchmark's own process stays where it is.
/// </summary>
public sealed record BenchPath(string Name, string TargetAddress, string InitiatorAddress, IReadOnlyList<string> TargetPrefix, IReadOnlyList<string> InitiatorPrefix)
{
    /// <summary>Both ends on this host's loopback, no namespaces.</summary>
    public static BenchPath OneHost { get; } = new("one-host", "127.0.0.1", "127.0.0.1", [], []);

    public string[] TargetCommand(string fileName, params string[] args) => [.. TargetPrefix, fileName, .. args];

    public string[] InitiatorCommand(string fileName, params string[] args) => [.. InitiatorPrefix, fileName, .. args];
}
