namespace PdRdma.Engines.Serving;

/// <summary>A finished prefill: the first sampled token and the blocks that hold the prompt's KV (until released). Handle is the engine's own record.</summary>
public sealed record PrefillOutcome(int FirstToken, IReadOnlyList<int> Blocks, object? Handle = null);
