namespace PdRdma.Engines.Split;

/// <summary>
/// Blocks of a decode engine's pool reserved for one request's prompt KV, until <see cref="ExpiresAt"/>.
/// A prefill engine writes the prompt's positions into <see cref="BlockIds"/> in order.
/// </summary>
public sealed record KvLease(string RequestId, IReadOnlyList<int> BlockIds, int PromptLength, DateTimeOffset ExpiresAt);
