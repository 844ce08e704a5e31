using System.Text.Json.Serialization;

namespace PdRdma.Cli.Demo;

/// <summary>
/// What the host tells the two VM nodes of <c>demo --backend verbs</c>, as spec.json in the folder the harness
/// shares with both VMs (the same folder carries the cluster secret, readiness and the result back).
/// </summary>
public sealed class VmDemoSpec
{
    [JsonPropertyName("model")] public string Model { get; init; } = Engines.Serving.ModelCatalog.Default;
    [JsonPropertyName("prompt")] public string Prompt { get; init; } = "";
    [JsonPropertyName("max_tokens")] public int MaxTokens { get; init; }
    [JsonPropertyName("backend")] public string Backend { get; init; } = "verbs";
    [JsonPropertyName("node_a")] public string NodeA { get; init; } = "198.18.47.1";
    [JsonPropertyName("node_b")] public string NodeB { get; init; } = "198.18.47.2";
    /// <summary>How long node A waits for node B and node B for node A's result.</summary>
    [JsonPropertyName("wait_seconds")] public int WaitSeconds { get; init; } = 900;

    /// <summary>Files in the shared folder.</summary>
    public static class Files
    {
        public const string Spec = "spec.json";
        public const string Secret = "cluster.key";
        public const string Result = "result.json";
        public const string BReady = "b.ready";
        public const string Done = "done";

        public static string Failed(string role) => $"{role}.failed";

        public static string Logs(string role) => $"logs-{role}";
    }
}
