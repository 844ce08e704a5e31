using System.Text.Json.Serialization;

namespace PdRdma.Engines.Split;

/// <summary>
/// One line of the decode worker's pipe protocol (JSON, one object per line, version <see cref="CurrentVersion"/>).
/// A parent/child pipe on one host only; cross-node traffic goes through the daemon's MessagePack protocol.
/// </summary>
public sealed record WorkerMessage
{
    public const int CurrentVersion = 2;

    [JsonPropertyName("v")] public int Version { get; init; } = CurrentVersion;
    [JsonPropertyName("op")] public required string Op { get; init; }
    [JsonPropertyName("id")] public string? RequestId { get; init; }
    [JsonPropertyName("region")] public string? RegionId { get; init; }
    [JsonPropertyName("port")] public int Port { get; init; }
    [JsonPropertyName("length")] public long RegionLength { get; init; }
    [JsonPropertyName("layout")] public int[]? Layout { get; init; }
    [JsonPropertyName("promptLength")] public int PromptLength { get; init; }
    [JsonPropertyName("blocks")] public int[]? Blocks { get; init; }
    [JsonPropertyName("prompt")] public int[]? Prompt { get; init; }
    [JsonPropertyName("first")] public int FirstToken { get; init; }
    [JsonPropertyName("rng")] public ulong RngState { get; init; }
    [JsonPropertyName("maxNew")] public int MaxNewTokens { get; init; }
    [JsonPropertyName("temperature")] public float Temperature { get; init; }
    [JsonPropertyName("topP")] public float TopP { get; init; }
    [JsonPropertyName("seed")] public ulong Seed { get; init; }
    [JsonPropertyName("token")] public int Token { get; init; }
    [JsonPropertyName("reason")] public string? Reason { get; init; }
    [JsonPropertyName("message")] public string? Message { get; init; }
}
