namespace PdRdma.Engines.Serving.Api;

/// <summary>
/// Proxy → decode: reserve blocks for a request whose KV the named prefill node will push. The prompt is text
/// (tokenised here, so the decode instance's limits and errors are the colocated ones) or token ids.
/// </summary>
public sealed record ReserveCall(string RequestId, string? Prompt, int MaxTokens, string PeerNode, int[]? Tokens = null, string PromptParam = "prompt");
