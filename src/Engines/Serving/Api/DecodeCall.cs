namespace PdRdma.Engines.Serving.Api;

/// <summary>Proxy → decode: continue a request once its KV has arrived.</summary>
public sealed record DecodeCall(string RequestId, int[] Tokens, int FirstToken, int MaxTokens);
