using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdRdma.Daemon.Discovery;

/// <summary>
/// What a daemon publishes at <c>{prefix}/nodes/{nodeId}</c>: its identity, where peers reach it per backend, the
/// KV layouts of its pools and their free capacity. JSON (operators read it with <c>etcdctl get</c>), versioned;
/// anything read back is validated by <see cref="TryParse"/> before use, since any etcd client with write access
/// could have put it there.
/// </summary>
public sealed record NodeRecord
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("v")] public int Version { get; init; } = CurrentVersion;
    [JsonPropertyName("node")] public required string NodeId { get; init; }
    [JsonPropertyName("host")] public required string HostId { get; init; }
    /// <summary>Backend name (tcp, shm, verbs) → address:port where peers connect for it.</summary>
    [JsonPropertyName("endpoints")] public required Dictionary<string, string> Endpoints { get; init; }
    [JsonPropertyName("backend")] public string Backend { get; init; } = "";
    [JsonPropertyName("pools")] public PoolCapacity[] Pools { get; init; } = [];

    public static readonly string[] Backends = ["tcp", "shm", "verbs"];

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>Parses and validates a record read from etcd; false with the reason when it is malformed or hostile.</summary>
    public static bool TryParse(string json, string expectedNodeId, out NodeRecord? record, out string error)
    {
        record = null;
        try
        {
            var r = JsonSerializer.Deserialize<NodeRecord>(json);
            error = r switch
            {
                null => "empty",
                { Version: not CurrentVersion } => $"version {r.Version}, this build reads {CurrentVersion}",
                _ when r.NodeId != expectedNodeId => $"names node '{r.NodeId}' under the key of '{expectedNodeId}'",
                _ when !DirectoryKeys.IsValidName(r.NodeId) => "invalid node id",
                _ when r.HostId is not { Length: > 0 and <= 256 } => "host id missing or too long",
                _ when r.Endpoints.Count is 0 or > 8 => "needs 1-8 endpoints",
                _ when r.Endpoints.Any(e => !Backends.Contains(e.Key) || !IPEndPoint.TryParse(e.Value, out var ep) || ep.Port == 0) => "an endpoint is not backend → address:port",
                _ when r.Pools.Length > 64 || r.Pools.Any(p => p.Blocks < 0 || p.Leased < 0 || p.Leased > p.Blocks) => "pool capacity out of range",
                _ => "",
            };
            if (error.Length == 0) record = r;
            return record is not null;
        }
        catch (JsonException e)
        {
            error = $"not a node record: {e.Message}";
            return false;
        }
    }

    /// <summary>Where to reach this node for <paramref name="backend"/> (tcp when the backend has no own address).</summary>
    public string? EndpointFor(string backend) => Endpoints.GetValueOrDefault(backend) ?? Endpoints.GetValueOrDefault("tcp");

    /// <summary>One registered KV pool: its layout hash (two nodes can exchange KV only when these match) and block usage.</summary>
    public sealed record PoolCapacity
    {
        [JsonPropertyName("id")] public required string Id { get; init; }
        [JsonPropertyName("layout_hash")] public required string LayoutHash { get; init; }
        [JsonPropertyName("blocks")] public int Blocks { get; init; }
        [JsonPropertyName("leased")] public int Leased { get; init; }
    }
}
