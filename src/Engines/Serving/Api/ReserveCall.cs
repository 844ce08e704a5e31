namespace PdRdma.Engines.Serving.Api;

/// <summary>Proxy → decode: reserve blocks for a request whose KV the named prefill node will push.</summary>
public sealed record ReserveCall(string RequestId, string Prompt, int MaxTokens, string PeerNode);
