using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdRdma.Daemon.Discovery;

/// <summary>
/// What a serving instance publishes at <c>{prefix}/instances/{role}/{instanceId}</c>: role, model, URL, node and
/// load (requests queued or running, free KV blocks, running decode batch). JSON, versioned, validated on read
/// (<see cref="TryParse"/>): a URL must be plain http(s)://host:port, so the proxy never calls somewhere a
/// record smuggles in (a path, credentials, another scheme).
/// </summary>
public sealed record InstanceRecord
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("v")] public int Version { get; init; } = CurrentVersion;
    [JsonPropertyName("role")] public required string Role { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("url")] public required string Url { get; init; }
    [JsonPropertyName("node")] public string Node { get; init; } = "";
    /// <summary>Requests in flight on the instance (prefill: its queue).</summary>
    [JsonPropertyName("queue_depth")] public int QueueDepth { get; init; }
    [JsonPropertyName("free_blocks")] public int FreeBlocks { get; init; }
    /// <summary>Sequences the decode instance is generating or holds blocks for.</summary>
    [JsonPropertyName("running")] public int Running { get; init; }

    public static readonly string[] Roles = ["prefill", "decode", "colocated"];

    public string ToJson() => JsonSerializer.Serialize(this);

    public static bool TryParse(string json, string expectedRole, out InstanceRecord? record, out string error)
    {
        record = null;
        try
        {
            var r = JsonSerializer.Deserialize<InstanceRecord>(json);
            error = r switch
            {
                null => "empty",
                { Version: not CurrentVersion } => $"version {r.Version}, this build reads {CurrentVersion}",
                _ when r.Role != expectedRole || !Roles.Contains(r.Role) => $"role '{r.Role}' under the key of role '{expectedRole}'",
                _ when r.Model is not { Length: > 0 and <= 256 } => "model missing or too long",
                _ when !IsPlainHttpUrl(r.Url) => $"url '{r.Url}' is not http(s)://host:port",
                _ when r.Node.Length > 0 && !DirectoryKeys.IsValidName(r.Node) => "invalid node id",
                _ when r.QueueDepth < 0 || r.FreeBlocks < 0 || r.Running < 0 => "negative load",
                _ => "",
            };
            if (error.Length == 0) record = r;
            return record is not null;
        }
        catch (JsonException e)
        {
            error = $"not an instance record: {e.Message}";
            return false;
        }
    }

    public static bool IsPlainHttpUrl(string? url) =>
        url is { Length: <= 256 } && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        && uri.UserInfo.Length == 0 && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && !url.TrimEnd('/').EndsWith('/')
        && url.TrimEnd('/') == uri.GetLeftPart(UriPartial.Authority);
}
