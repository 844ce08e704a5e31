namespace PdRdma.Engines.Split;

/// <summary>
/// What a prefill hands to decode: the first sampled token and the sampler's RNG state after it (so seeded sampling
/// continues the same stream), and the prefill pool blocks that hold the prompt's KV until released.
/// </summary>
public sealed record PrefillResult(IReadOnlyList<int> PromptTokens, int FirstToken, ulong RngState, IReadOnlyList<int> BlockIds);
