namespace PdRdma.Engines.Serving.Api;

/// <summary>Prefill → proxy: the first token, the sampler's RNG state after it, and what the push cost.</summary>
public sealed record PrefillAnswer(int FirstToken, long KvBytes, double TransferMs, double PrefillMs, string Backend, string Node, ulong RngState = 0);
