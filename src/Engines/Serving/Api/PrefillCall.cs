namespace PdRdma.Engines.Serving.Api;

/// <summary>Proxy → prefill: compute the prompt and push its KV to the target.</summary>
public sealed record PrefillCall(string RequestId, int[] Tokens, KvTarget Target);
