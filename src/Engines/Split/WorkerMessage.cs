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

    /// <summary>Hello of a worker whose pool is on a CUDA device: the base64 CUDA IPC handle of the pool's allocation.</summary>
    [JsonPropertyName("ipc")] public string? IpcHandle { get; init; }

    /// <summary>Offset of the pool inside the allocation <see cref="IpcHandle"/> opens.</summary>
    [JsonPropertyName("ipcOffset")] public long IpcOffset { get; init; }

    /// <summary>Hello: the worker pool's device ("cpu", "cuda:N").</summary>
    [JsonPropertyName("device")] public string? Device { get; init; }
}
