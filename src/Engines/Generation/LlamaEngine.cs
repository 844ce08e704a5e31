using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Model;
using PdRdma.Engines.Sampling;

namespace PdRdma.Engines.Generation;

/// <summary>
/// Runs a model over its own paged KV pool: prefill (whole prompt in one pass, layer hook), batched decode, and
/// colocated generation. Calls are serialised by a lock, so the engine may be shared between threads; several
/// sequences share one forward pass only inside <see cref="GenerateBatch"/>. Owns neither the model nor the pool.
/// </summary>
public sealed class LlamaEngine
{
    private readonly object _gate = new();

    public LlamaEngine(LoadedModel model, KvPool pool)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pool);
        model.Model.CheckPool(pool.Layout);
        Model = model;
        Pool = pool;
    }

    public LoadedModel Model { get; }

    public KvPool Pool { get; }

    /// <summary>Generates for one prompt; <paramref name="onToken"/> sees each generated token as it is sampled.</summary>
    public GenerationResult Generate(GenerationRequest request, Action<int>? onToken = null) =>
        GenerateBatch([request], onToken is null ? null : (_, t) => onToken(t))[0];

    /// <summary>Prefills each prompt, then decodes all of them together, one batched forward pass per step.</summary>
    public IReadOnlyList<GenerationResult> GenerateBatch(IReadOnlyList<GenerationRequest> requests, Action<int, int>? onToken = null)
    {
        lock (_gate)
        {
            var sequences = new List<ActiveSequence>();
            try
            {
                for (int i = 0; i < requests.Count; i++)
                {
                    int index = i;
                    var seq = new ActiveSequence(requests[i], new BlockTable(Pool.Layout.TokensPerBlock), new Sampler(requests[i].Sampling),
                        onToken is null ? null : t => onToken(index, t));
                    sequences.Add(seq);
                    int first = PrefillLocked(seq.Table, requests[i].PromptTokens, seq.Sampler, null);
                    seq.CachedPositions = requests[i].PromptTokens.Count;
                    Accept(seq, first);
                }
                DecodeLocked(sequences);
                return sequences.Select(s => s.Result()).ToList();
            }
            finally
            {
                foreach (var s in sequences) s.Table.Release(Pool.Allocator);
            }
        }
    }

    /// <summary>
    /// Computes the prompt's KV into <paramref name="table"/>'s blocks (allocating what it lacks) layer by layer,
    /// calling <paramref name="onLayer"/> after each, and samples the first token from the last position.
    /// </summary>
    public int Prefill(BlockTable table, IReadOnlyList<int> prompt, Sampler sampler, LayerDoneHook? onLayer)
    {
        lock (_gate) return PrefillLocked(table, prompt, sampler, onLayer);
    }

    /// <summary>
    /// Prefills several prompts into their tables in one forward pass (ragged, masked), calling each one's hook after
    /// each layer with its blocks. A hook that throws stops only its own prompt's hooks: its error is returned in place
    /// of its first token, the others go on. Returns per prompt the first token sampled, or the hook's error.
    /// </summary>
    public IReadOnlyList<(int FirstToken, Exception? Error)> PrefillBatch(IReadOnlyList<(BlockTable Table, IReadOnlyList<int> Prompt, Sampler Sampler, LayerDoneHook? OnLayer)> prompts)
    {
        if (prompts.Count == 1)
        {
            var (table, prompt, sampler, onLayer) = prompts[0];
            return [(Prefill(table, prompt, sampler, onLayer), null)];
        }
        foreach (var p in prompts) CheckPrompt(p.Prompt);
        var errors = new Exception?[prompts.Count];
        lock (_gate)
        {
            foreach (var p in prompts) p.Table.EnsureCapacity(p.Prompt.Count, Pool.Allocator);
            void After(int layer)
            {
                for (int i = 0; i < prompts.Count; i++)
                {
                    if (errors[i] is not null || prompts[i].OnLayer is not { } hook) continue;
                    try
                    {
                        hook(layer, prompts[i].Table.Blocks);
                    }
                    catch (Exception e)
                    {
                        errors[i] = e;
                    }
                }
            }
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            using var logits = Model.Model.Forward(prompts.Select(p => new ForwardItem(p.Prompt, 0, p.Table)).ToList(), Pool, After);
            var all = logits.data<float>().ToArray();
            EngineMetrics.Prefilled(prompts.Sum(p => p.Prompt.Count), System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            int vocab = Model.Config.VocabSize;
            return prompts.Select((p, i) => errors[i] is null ? (p.Sampler.Sample(all.AsSpan(i * vocab, vocab)), (Exception?)null) : (-1, errors[i])).ToList();
        }
    }

    /// <summary>Continues sequences whose prompt KV is already in <see cref="Pool"/> and whose first token is sampled.</summary>
    internal IReadOnlyList<GenerationResult> Continue(IReadOnlyList<ActiveSequence> sequences)
    {
        lock (_gate)
        {
            DecodeLocked(sequences);
            return sequences.Select(s => s.Result()).ToList();
        }
    }

    internal void Accept(ActiveSequence seq, int token)
    {
        if (seq.Stopped is not null) return;
        if (Model.Tokenizer.StopTokens.Contains(token))
        {
            seq.Stopped = StopReason.StopToken;
            return;
        }
        if (seq.Request.MaxNewTokens <= seq.Generated.Count)
        {
            seq.Stopped = StopReason.MaxTokens;
            return;
        }
        seq.Generated.Add(token);
        EngineMetrics.Generated();
        seq.OnToken?.Invoke(token);
        if (seq.Generated.Count >= seq.Request.MaxNewTokens) seq.Stopped = StopReason.MaxTokens;
        else if (seq.CachedPositions >= Model.Config.MaxSeqLen) seq.Stopped = StopReason.ContextFull;
    }

    private int PrefillLocked(BlockTable table, IReadOnlyList<int> prompt, Sampler sampler, LayerDoneHook? onLayer)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt needs at least one token (BOS)", nameof(prompt));
        if (prompt.Count > Model.Config.MaxSeqLen) throw new ArgumentException($"prompt of {prompt.Count} tokens exceeds the model's context of {Model.Config.MaxSeqLen}", nameof(prompt));
        table.EnsureCapacity(prompt.Count, Pool.Allocator);
        Action<int>? after = onLayer is null ? null : l => onLayer(l, table.Blocks);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var logits = Model.Model.Forward([new ForwardItem(prompt, 0, table)], Pool, after);
        var row = logits.data<float>().ToArray();
        EngineMetrics.Prefilled(prompt.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        return sampler.Sample(row);
    }

    private void DecodeLocked(IReadOnlyList<ActiveSequence> sequences)
    {
        while (sequences.Any(s => s.Stopped is null)) StepLocked(sequences);
    }

    /// <summary>One batched forward pass for every sequence that has not stopped; samples and accepts one token each.</summary>
    internal void Step(IReadOnlyList<ActiveSequence> sequences)
    {
        lock (_gate) StepLocked(sequences);
    }

    private void StepLocked(IReadOnlyList<ActiveSequence> sequences)
    {
        int vocab = Model.Config.VocabSize;
        var active = sequences.Where(s => s.Stopped is null).ToList();
        if (active.Count == 0) return;
        var items = new List<ForwardItem>(active.Count);
        foreach (var s in active)
        {
            s.Table.EnsureCapacity(s.CachedPositions + 1, Pool.Allocator);
            items.Add(new ForwardItem([s.LastToken], s.CachedPositions, s.Table));
        }
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var logits = Model.Model.Forward(items, Pool);
        var all = logits.data<float>().ToArray();
        EngineMetrics.Decoded(items.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        for (int i = 0; i < active.Count; i++)
        {
            var s = active[i];
            s.CachedPositions++;
            int next = s.Sampler.Sample(all.AsSpan(i * vocab, vocab));
            Accept(s, next);
        }
    }

    /// <summary>Prefills a new sequence and accepts its first token.</summary>
    internal ActiveSequence Admit(GenerationRequest request, Action<int>? onToken) => AdmitBatch([(request, onToken)])[0];

    /// <summary>Throws ArgumentException when <paramref name="prompt"/> cannot be prefilled (empty, longer than the context).</summary>
    internal void CheckPrompt(IReadOnlyList<int> prompt)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt needs at least one token (BOS)", nameof(prompt));
        if (prompt.Count > Model.Config.MaxSeqLen) throw new ArgumentException($"prompt of {prompt.Count} tokens exceeds the model's context of {Model.Config.MaxSeqLen}", nameof(prompt));
    }

    /// <summary>
    /// Prefills several new sequences in one forward pass (prompts of different lengths padded to the longest, masked)
    /// and accepts each one's first token: the batcher's admission step, so that prompts arriving together do not wait
    /// for each other's prefill. On failure every sequence's blocks return and the error propagates.
    /// </summary>
    internal IReadOnlyList<ActiveSequence> AdmitBatch(IReadOnlyList<(GenerationRequest Request, Action<int>? OnToken)> requests)
    {
        var sequences = requests.Select(r => new ActiveSequence(r.Request, new BlockTable(Pool.Layout.TokensPerBlock), new Sampler(r.Request.Sampling), r.OnToken)).ToList();
        try
        {
            foreach (var s in sequences) CheckPrompt(s.Request.PromptTokens);
            lock (_gate)
            {
                if (sequences.Count == 1)
                {
                    var only = sequences[0];
                    int first = PrefillLocked(only.Table, only.Request.PromptTokens, only.Sampler, null);
                    only.CachedPositions = only.Request.PromptTokens.Count;
                    Accept(only, first);
                    return sequences;
                }
                foreach (var s in sequences) s.Table.EnsureCapacity(s.Request.PromptTokens.Count, Pool.Allocator);
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                using var logits = Model.Model.Forward(sequences.Select(s => new ForwardItem(s.Request.PromptTokens, 0, s.Table)).ToList(), Pool);
                var all = logits.data<float>().ToArray();
                EngineMetrics.Prefilled(sequences.Sum(s => s.Request.PromptTokens.Count), System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                int vocab = Model.Config.VocabSize;
                for (int i = 0; i < sequences.Count; i++)
                {
                    sequences[i].CachedPositions = sequences[i].Request.PromptTokens.Count;
                    Accept(sequences[i], sequences[i].Sampler.Sample(all.AsSpan(i * vocab, vocab)));
                }
            }
            return sequences;
        }
        catch
        {
            foreach (var s in sequences) s.Table.Release(Pool.Allocator);
            throw;
        }
    }
}
