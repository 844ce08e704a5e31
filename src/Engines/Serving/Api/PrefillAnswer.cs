namespace PdRdma.Engines.Serving.Api;

/// <summary>
/// Prefill → proxy: the first token, the sampler's RNG state after it, and what the push cost: TransferMs from the first
/// layer's write to the last byte acknowledged, PrefillMs the compute, ExposedMs the part of the transfer after the compute
/// (not hidden by it).
/// </summary>
public sealed record PrefillAnswer(int FirstToken, long KvBytes, double TransferMs, double PrefillMs, string Backend, string Node, ulong RngState = 0, double ExposedMs = 0);
