using PdRdma.Engines.Sampling;
using PdRdma.Transport;

namespace PdRdma.Engines.Serving;

/// <summary>
/// What the serving path needs from an engine, shaped like the engines' PrefillEngine / DecodeEngine: a tokenizer,
/// a paged KV pool in a shared region, prefill into its own blocks with a per-layer hook (the push of a layer
/// overlaps the next layer's compute), and decode that reserves blocks for a prompt's KV and resumes from it.
/// Generations end with an <see cref="EngineToken"/> carrying the finish reason; disposing a generation's
/// enumerator early (or cancelling its token) abandons its engine work. Implementations are thread-safe.
/// </summary>
public interface IServingModel : IDisposable
{
    string Name { get; }

    /// <summary>Layout of <see cref="Pool"/> (its Blocks is this pool's size).</summary>
    KvLayout Layout { get; }

    /// <summary>The KV pool; its SharedPath is what the node daemon maps.</summary>
    IMemoryRegion Pool { get; }

    /// <summary>Positions the model attends over (prompt and generated tokens together).</summary>
    int ContextLength { get; }

    int VocabSize { get; }

    /// <summary>The most UTF-8 bytes one token stands for (bounds the token count from below before tokenising).</summary>
    int MaxTokenBytes { get; }

    int[] Encode(string text);

    /// <summary>Text of <paramref name="token"/> printed after <paramref name="previous"/> (-1: none).</summary>
    string TokenText(int previous, int token);

    /// <summary>
    /// Computes the prompt's KV into blocks of this pool, calling <paramref name="afterLayer"/>(layer, blocks) after
    /// each layer (start the push there; do not wait for it), and samples the first token with <paramref name="sampling"/>.
    /// The blocks stay allocated until <see cref="ReleasePrefill"/>.
    /// </summary>
    Task<PrefillOutcome> PrefillAsync(int[] prompt, SamplingOptions sampling, Func<int, IReadOnlyList<int>, Task> afterLayer, CancellationToken ct);

    void ReleasePrefill(PrefillOutcome outcome);

    /// <summary>Reserves blocks for a prompt of <paramref name="promptLength"/> tokens; TransferException(PoolFull) when none are free.</summary>
    DecodeReservation Reserve(string requestId, int promptLength);

    /// <summary>Returns an abandoned reservation's blocks (one never resumed). Idempotent.</summary>
    void Release(DecodeReservation reservation);

    /// <summary>
    /// Decodes from the prompt KV in the reservation's blocks, prefill's first token and its RNG state; consumes the
    /// reservation. Yields every new token, the first included, then the end.
    /// </summary>
    IAsyncEnumerable<EngineToken> ResumeAsync(DecodeReservation reservation, int[] prompt, int firstToken, ulong rngState, GenerationSettings settings, CancellationToken ct);

    /// <summary>Colocated generation: prefill and decode here. Yields every new token, then the end.</summary>
    IAsyncEnumerable<EngineToken> GenerateAsync(int[] prompt, GenerationSettings settings, CancellationToken ct);

    /// <summary>Blocks free in the pool (for health and tests).</summary>
    int FreeBlocks { get; }

    /// <summary>Sequences decoding now, and requests waiting for admission (for health and the proxy's load signal).</summary>
    int Running { get; }

    int Queued { get; }
}
