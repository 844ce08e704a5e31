using PdRdma.Transport;

namespace PdRdma.Engines.Serving;

/// <summary>
/// What the serving path needs from an engine, shaped like the engines' PrefillEngine / DecodeEngine: a tokenizer,
/// a paged KV pool in a shared region, prefill into its own blocks with a per-layer hook (the push of a layer
/// overlaps the next layer's compute), and decode that reserves blocks for a prompt's KV and resumes from it.
/// Implementations are thread-safe for concurrent requests.
/// </summary>
public interface IServingModel : IDisposable
{
    string Name { get; }

    /// <summary>Layout of <see cref="Pool"/> (its Blocks is this pool's size).</summary>
    KvLayout Layout { get; }

    /// <summary>The KV pool; its SharedPath is what the node daemon maps.</summary>
    IMemoryRegion Pool { get; }

    int[] Encode(string text);

    /// <summary>Text of <paramref name="token"/> printed after <paramref name="previous"/> (-1: none).</summary>
    string TokenText(int previous, int token);

    /// <summary>
    /// Computes the prompt's KV into blocks of this pool, calling <paramref name="afterLayer"/>(layer, blocks) after
    /// each layer (start the push there; do not wait for it). The blocks stay allocated until <see cref="ReleasePrefill"/>.
    /// </summary>
    Task<PrefillOutcome> PrefillAsync(int[] prompt, Func<int, IReadOnlyList<int>, Task> afterLayer, CancellationToken ct);

    void ReleasePrefill(PrefillOutcome outcome);

    /// <summary>Reserves blocks for a prompt of <paramref name="promptLength"/> tokens; TransferException(PoolFull) when none are free.</summary>
    DecodeReservation Reserve(string requestId, int promptLength);

    /// <summary>Returns an abandoned reservation's blocks (one never resumed). Idempotent.</summary>
    void Release(DecodeReservation reservation);

    /// <summary>Decodes from the prompt KV in the reservation's blocks and prefill's first token; consumes the reservation. Yields every new token, the first included.</summary>
    IAsyncEnumerable<int> ResumeAsync(DecodeReservation reservation, int[] prompt, int firstToken, int maxTokens, CancellationToken ct);

    /// <summary>Colocated generation: prefill and decode here.</summary>
    IAsyncEnumerable<int> GenerateAsync(int[] prompt, int maxTokens, CancellationToken ct);

    /// <summary>Blocks free in the pool (for health and tests).</summary>
    int FreeBlocks { get; }
}
