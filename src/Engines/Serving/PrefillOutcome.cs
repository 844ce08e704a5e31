namespace PdRdma.Engines.Serving;

/// <summary>
/// A finished prefill: the first sampled token, the sampler's RNG state after it (decode continues the same stream),
/// and the blocks that hold the prompt's KV (until released). Handle is the engine's own record.
/// </summary>
public sealed record PrefillOutcome(int FirstToken, IReadOnlyList<int> Blocks, object? Handle = null, ulong RngState = 0);
