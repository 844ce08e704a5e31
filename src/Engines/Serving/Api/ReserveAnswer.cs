namespace PdRdma.Engines.Serving.Api;

/// <summary>Decode → proxy: the prompt tokens and where to push their KV.</summary>
public sealed record ReserveAnswer(int[] Tokens, KvTarget Target);
