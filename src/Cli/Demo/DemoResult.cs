using System.Text.Json.Serialization;

namespace PdRdma.Cli.Demo;

/// <summary>What one demo run measured; serialized as the `--json` line (and between the VM and the host).</summary>
public sealed class DemoResult
{
    [JsonPropertyName("text")] public string Text { get; init; } = "";
    [JsonPropertyName("tokens")] public int Tokens { get; init; }
    [JsonPropertyName("identical_to_colocated")] public bool IdenticalToColocated { get; init; }
    [JsonPropertyName("ttft_ms")] public double TtftMs { get; init; }
    [JsonPropertyName("tpot_ms")] public double TpotMs { get; init; }
    [JsonPropertyName("kv_bytes")] public long KvBytes { get; init; }
    [JsonPropertyName("transfer_gbps")] public double TransferGbps { get; init; }
    [JsonPropertyName("backend")] public string Backend { get; init; } = "";
    [JsonPropertyName("model")] public string Model { get; init; } = "";
    [JsonPropertyName("prompt_chars")] public int PromptChars { get; init; }
    [JsonPropertyName("colocated_ttft_ms")] public double ColocatedTtftMs { get; init; }
    [JsonPropertyName("colocated_tpot_ms")] public double ColocatedTpotMs { get; init; }
    [JsonPropertyName("transfer_ms")] public double TransferMs { get; init; }
    [JsonPropertyName("topology")] public string Topology { get; set; } = "";
    [JsonPropertyName("colocated_text")] public string ColocatedText { get; init; } = "";
}
