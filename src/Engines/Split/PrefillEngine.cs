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

    /// <summary>
    /// Prefills several prompts in one forward pass, each with its own layer hook. Per prompt: its result, or the error
    /// its hook threw (its blocks already returned). The results' blocks stay allocated until <see cref="Release"/>.
    /// </summary>
    public IReadOnlyList<(PrefillResult? Result, Exception? Error)> PrefillBatch(IReadOnlyList<(IReadOnlyList<int> Prompt, SamplingOptions Sampling, LayerDoneHook? OnLayer)> prompts)
    {
        var items = prompts.Select(p => (Table: new BlockTable(Pool.Layout.TokensPerBlock), p.Prompt, Sampler: new Sampler(p.Sampling), p.OnLayer)).ToList();
        IReadOnlyList<(int FirstToken, Exception? Error)> firsts;
        try
        {
            firsts = Engine.PrefillBatch(items.Select(i => (i.Table, i.Prompt, i.Sampler, i.OnLayer)).ToList());
        }
        catch
        {
            foreach (var i in items) i.Table.Release(Pool.Allocator);
            throw;
        }
        var results = new List<(PrefillResult?, Exception?)>(items.Count);
        for (int k = 0; k < items.Count; k++)
        {
            var (table, prompt, sampler, _) = items[k];
            if (firsts[k].Error is { } error)
            {
                table.Release(Pool.Allocator);
                results.Add((null, error));
            }
            else
            {
                results.Add((new PrefillResult(prompt.ToArray(), firsts[k].FirstToken, sampler.RngState, table.Blocks.ToArray()), null));
            }
        }
        return results;
    }

    public void Release(PrefillResult result) => Pool.Allocator.Free(result.BlockIds);
}
