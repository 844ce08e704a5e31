using PdRdma.Transport;

namespace PdRdma.Engines.Serving;

/// <summary>
/// What the serving path needs from an engine: tokenizer, a paged KV pool in a shared region, prefill with a
/// per-layer hook (push transfer overlaps the next layer), and decode that resumes from KV written by a peer.
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

    string Decode(IReadOnlyList<int> tokens);

    /// <summary>Allocates pool blocks for a prompt of <paramref name="promptTokens"/> tokens plus room to grow by <paramref name="maxNewTokens"/>; throws TransferException(PoolFull) when the pool is exhausted.</summary>
    int[] Allocate(int promptTokens, int maxNewTokens);

    void Free(IReadOnlyList<int> blocks);

    /// <summary>Number of blocks that hold the KV of <paramref name="tokens"/> tokens.</summary>
    int BlocksFor(int tokens) => (tokens + Layout.TokensPerBlock - 1) / Layout.TokensPerBlock;

    /// <summary>Computes the prompt's KV into <paramref name="blocks"/> layer by layer, awaiting <paramref name="afterLayer"/>(layer) after each; returns the first sampled token.</summary>
    Task<int> PrefillAsync(int[] prompt, int[] blocks, Func<int, Task> afterLayer, CancellationToken ct);

    /// <summary>Continues from a prompt whose KV is in <paramref name="blocks"/> and the first token prefill sampled; yields every new token (the first one included) until EOS or <paramref name="maxTokens"/>.</summary>
    IAsyncEnumerable<int> DecodeAsync(int[] prompt, int[] blocks, int firstToken, int maxTokens, CancellationToken ct);

    int? EndOfSequence { get; }
}
