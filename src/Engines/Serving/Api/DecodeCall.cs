namespace PdRdma.Engines.Serving.Api;

/// <summary>Proxy → decode: continue a request once its KV has arrived (sampling continues from prefill's RNG state).</summary>
public sealed record DecodeCall(string RequestId, int[] Tokens, int FirstToken, int MaxTokens, float Temperature = 0, float TopP = 1, ulong Seed = 1, ulong RngState = 0);
