using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Sampling;

namespace PdRdma.Engines.Split;

/// <summary>
/// The prefill role: computes a prompt's KV in its own pool layer by layer, calling a hook after each layer so the
/// caller can push that layer's blocks while the next computes, and samples the first token.
/// Thread-safe (calls are serialised by the underlying engine).
/// </summary>
public sealed class PrefillEngine(LlamaEngine engine)
{
    public LlamaEngine Engine { get; } = engine;

    public KvPool Pool => Engine.Pool;

    /// <summary>
    /// Prefills <paramref name="promptTokens"/>. The returned blocks stay allocated until <see cref="Release"/>, so a
    /// transfer started from the hook can still read them; release once every write has completed.
    /// </summary>
    public PrefillResult Prefill(IReadOnlyList<int> promptTokens, SamplingOptions sampling, LayerDoneHook? onLayer)
    {
        var table = new BlockTable(Pool.Layout.TokensPerBlock);
        try
        {
            var sampler = new Sampler(sampling);
            int first = Engine.Prefill(table, promptTokens, sampler, onLayer);
            return new PrefillResult(promptTokens.ToArray(), first, sampler.RngState, table.Blocks.ToArray());
        }
        catch
        {
            table.Release(Pool.Allocator);
            throw;
        }
    }

    public void Release(PrefillResult result) => Pool.Allocator.Free(result.BlockIds);
}
