using System.Text.RegularExpressions;

namespace PdRdma.Daemon.Discovery;

/// <summary>
/// The key layout of the cluster directory in etcd: <c>{prefix}/nodes/{nodeId}</c> for daemons and
/// <c>{prefix}/instances/{role}/{instanceId}</c> for serving instances. Names that go into keys are checked here,
/// so that nothing a process calls itself can reach outside its own key.
/// </summary>
public static partial class DirectoryKeys
{
    /// <summary>Largest value accepted from etcd: records are a few hundred bytes; anything bigger is hostile or broken.</summary>
    public const int MaxValueBytes = 8192;

    public static string Nodes(string prefix) => prefix.TrimEnd('/') + "/nodes/";

    public static string Node(string prefix, string nodeId) => Nodes(prefix) + CheckName(nodeId, "node id");

    public static string Instances(string prefix) => prefix.TrimEnd('/') + "/instances/";

    public static string Instances(string prefix, string role) => Instances(prefix) + CheckName(role, "role") + "/";

    public static string Instance(string prefix, string role, string instanceId) => Instances(prefix, role) + CheckName(instanceId, "instance id");

    /// <summary>A node id, role or instance id: 1-64 of [A-Za-z0-9._-], not starting with '.'.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static bool IsValidPrefix(string? prefix) => prefix is { Length: > 0 and <= 64 } && prefix[0] == '/' && !prefix.Contains("..", StringComparison.Ordinal) && PrefixPattern().IsMatch(prefix);

    public static string CheckName(string name, string what) =>
        IsValidName(name) ? name : throw new ArgumentException($"{what} '{name}' cannot be an etcd key part: use 1-64 of [A-Za-z0-9._-], not starting with '.'");

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9._/-]+$")]
    private static partial Regex PrefixPattern();
}
