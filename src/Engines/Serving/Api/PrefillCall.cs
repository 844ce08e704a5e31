namespace PdRdma.Engines.Serving.Api;

/// <summary>Proxy → prefill: compute the prompt, sample its first token as asked, and push its KV to the target.</summary>
public sealed record PrefillCall(string RequestId, int[] Tokens, KvTarget Target, float Temperature = 0, float TopP = 1, ulong Seed = 1);
