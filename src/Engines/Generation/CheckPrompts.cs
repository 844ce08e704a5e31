namespace PdRdma.Engines.Generation;

/// <summary>
/// The prompts of the engine checks (<c>pdrdma engine-check</c>): a fixed pseudo-random walk that
/// scripts/gpu/torch_llama_ref.py computes the same way, so both sides run the same input.
/// </summary>
public static class CheckPrompts
{
    /// <summary>Token <paramref name="i"/> of check prompt <paramref name="sequence"/>: BOS (1) first, then a walk over ids 3..vocab-1.</summary>
    public static int Token(int sequence, int i, int vocab) =>
        i == 0 ? 1 : 3 + (int)((((long)i + 101L * sequence) * 7919L + 13L) % (vocab - 3));
}
