using System.Diagnostics;
using System.Globalization;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Serving;
using PdRdma.Engines.Serving.Api;
using PdRdma.Engines.Serving.Models;

namespace PdRdma.Perf.E2e;

/// <summary>
/// The engines driven for the end-to-end benchmark, through the serving code. Colocated: a serving model generating
/// (prefill and decode in one engine). Disaggregated: a prefill and a decode engine, each with a node's transfer
/// machinery linked in (<see cref="LocalSplit"/>, one per backend): the decode side reserves and grants blocks, the
/// prefill side pushes the KV through the peer connection into them — after each layer (overlap) or after the whole
/// prompt — and the decode side decodes once it arrived: the KV path of `pdrdma serve`, without HTTP. All engines
/// share one loaded model and run in this process.
/// </summary>
public sealed class EngineE2eHarness : IE2eHarness
{
    private const int TokensPerBlock = 16;
    private readonly LoadedModel _model;
    private readonly LlamaServingModel _colocated;
    private readonly LlamaServingModel _prefill;
    private readonly LlamaServingModel _decode;
    private readonly Dictionary<string, LocalSplit> _splits = new(StringComparer.Ordinal);
    private int _requests;

    private EngineE2eHarness(string name, LoadedModel model, int blocks)
    {
        ModelName = name;
        _model = model;
        _colocated = new LlamaServingModel(model, name, ownsModel: false, TokensPerBlock, blocks);
        _prefill = new LlamaServingModel(model, name, ownsModel: false, TokensPerBlock, blocks);
        _decode = new LlamaServingModel(model, name, ownsModel: false, TokensPerBlock, blocks);
    }

    public string ModelName { get; }

    public int MaxSequenceLength => _model.Config.MaxSeqLen;

    public long KvBytesPerToken => _decode.Layout.BlockBytes * 2 * _decode.Layout.Layers / _decode.Layout.TokensPerBlock;

    public static async Task<EngineE2eHarness> CreateAsync(string which, E2eOptions options, CancellationToken ct)
    {
        string name, spec;
        string? tokenizer = null;
        if (which == "largest")
        {
            var (checkpoint, tok, problem) = E2eModels.Largest();
            if (checkpoint is null) throw new InvalidOperationException(problem);
            spec = checkpoint;
            tokenizer = tok;
            name = Path.GetFileNameWithoutExtension(checkpoint);
        }
        else if (which == "random")
        {
            spec = E2eModels.RandomSpec(options.RandomShape);
            name = options.RandomShape.Name;
        }
        else
        {
            spec = which;
            name = which;
        }
        ct.ThrowIfCancellationRequested();
        EngineThreads.Apply();
        var model = ModelSource.Load(spec, new ModelLoadOptions { TokenizerPath = tokenizer });
        var harness = new EngineE2eHarness(name, model, PoolBlocks(model.Config.MaxSeqLen, options));
        // first calls pay for loading native code and allocating: keep them out of the numbers
        await harness.ColocatedAsync(Math.Min(32, model.Config.MaxSeqLen / 4), 4, ct);
        return harness;
    }

    public IReadOnlyList<string> Describe()
    {
        var c = _model.Config;
        return
        [
            string.Create(CultureInfo.InvariantCulture,
                $"{c.Layers} layers, dim {c.Dim}, {c.Heads} heads, {c.KvHeads} KV heads of {c.EffectiveHeadDim}, MLP {c.HiddenDim}, vocab {c.VocabSize}, context {c.MaxSeqLen}, {c.DType}; " +
                $"KV {KvBytesPerToken} bytes per token in blocks of {TokensPerBlock} tokens; {Environment.ProcessorCount} cores, {EngineThreads.Count} torch thread(s) (PDRDMA_BENCH_THREADS); greedy; prompts of random token ids; " +
                $"engines in one process, the disaggregated KV moved by the serving path (two nodes' transfer machinery linked in, peer connection over loopback)"),
        ];
    }

    public async Task<ColocatedSample> ColocatedAsync(int promptLen, int maxTokens, CancellationToken ct)
    {
        var prompt = PromptMaker.Make(Interlocked.Increment(ref _requests), promptLen, _model.Config.VocabSize);
        var (ttft, tpot, tokens) = await TimedAsync(_colocated.GenerateAsync(prompt, GenerationSettings.Greedy(maxTokens), ct));
        return new ColocatedSample(ttft, tpot, tokens);
    }

    public async Task<DisaggSample> DisaggregatedAsync(int promptLen, int maxTokens, string backend, bool overlap, CancellationToken ct)
    {
        var split = await SplitAsync(backend, ct);
        var prompt = PromptMaker.Make(Interlocked.Increment(ref _requests), promptLen, _model.Config.VocabSize);
        PrefillAnswer? pushed = null;
        var (ttft, tpot, tokens) = await TimedAsync(split.GenerateAsync(prompt, GenerationSettings.Greedy(maxTokens), p => pushed = p, overlap, ct));
        return new DisaggSample(ttft, tpot, tokens, pushed!.PrefillMs, pushed.ExposedMs, pushed.TransferMs, pushed.KvBytes, pushed.Backend);
    }

    public async Task<(double Colocated, double Disaggregated)> ThroughputAsync(int promptLen, int maxTokens, int requests, string backend, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, requests).Select(_ => ColocatedAsync(promptLen, maxTokens, ct)));
        var colocated = requests / clock.Elapsed.TotalSeconds;
        await SplitAsync(backend, ct);
        clock.Restart();
        // concurrent requests: prefills of later requests run while earlier ones decode
        await Task.WhenAll(Enumerable.Range(0, requests).Select(_ => DisaggregatedAsync(promptLen, maxTokens, backend, overlap: true, ct)));
        return (colocated, requests / clock.Elapsed.TotalSeconds);
    }

    /// <summary>The greedy tokens of one prompt generated colocated and through the split (they must be equal).</summary>
    public async Task<(IReadOnlyList<int> Colocated, IReadOnlyList<int> Disaggregated)> BothWaysAsync(int promptLen, int maxTokens, string backend, bool overlap, CancellationToken ct)
    {
        var split = await SplitAsync(backend, ct);
        var prompt = PromptMaker.Make(Interlocked.Increment(ref _requests), promptLen, _model.Config.VocabSize);
        static async Task<List<int>> Tokens(IAsyncEnumerable<EngineToken> steps)
        {
            var tokens = new List<int>();
            await foreach (var step in steps) if (!step.IsEnd) tokens.Add(step.Token);
            return tokens;
        }
        return (await Tokens(_colocated.GenerateAsync(prompt, GenerationSettings.Greedy(maxTokens), ct)),
            await Tokens(split.GenerateAsync(prompt, GenerationSettings.Greedy(maxTokens), null, overlap, ct)));
    }

    /// <summary>TTFT (ms from the call to the first token), TPOT (mean ms between later tokens) and the token count of one generation.</summary>
    private static async Task<(double Ttft, double Tpot, int Tokens)> TimedAsync(IAsyncEnumerable<EngineToken> generation)
    {
        var clock = Stopwatch.StartNew();
        var stamps = new List<double>();
        await foreach (var step in generation)
        {
            if (step.IsEnd) break;
            stamps.Add(clock.Elapsed.TotalMilliseconds);
        }
        var tpot = stamps.Count > 1 ? (stamps[^1] - stamps[0]) / (stamps.Count - 1) : double.NaN;
        return (stamps.Count > 0 ? stamps[0] : double.NaN, tpot, stamps.Count);
    }

    private async Task<LocalSplit> SplitAsync(string backend, CancellationToken ct)
    {
        if (_splits.TryGetValue(backend, out var existing)) return existing;
        var split = await LocalSplit.StartAsync(_prefill, _decode, backend, null, ct);
        _splits[backend] = split;
        // a first request opens the peer connection and warms both engines up
        var warm = PromptMaker.Make(0, Math.Min(32, MaxSequenceLength / 4), _model.Config.VocabSize);
        string? used = null;
        await foreach (var _ in split.GenerateAsync(warm, GenerationSettings.Greedy(4), p => used = p.Backend, ct: ct))
        {
        }
        if (used != backend) throw new InvalidOperationException($"asked for backend {backend} but the transfer agents chose {used}");
        return split;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var split in _splits.Values) await split.DisposeAsync();
        _colocated.Dispose();
        _prefill.Dispose();
        _decode.Dispose();
        _model.Dispose();
    }

    /// <summary>Blocks for the longest sequence, or for the throughput run's requests in flight at once, whichever is more.</summary>
    private static int PoolBlocks(int maxSeqLen, E2eOptions options)
    {
        var longest = Math.Min(maxSeqLen, options.PromptLengths.Max() + options.MaxTokens);
        var perRequest = (longest + TokensPerBlock - 1) / TokensPerBlock;
        var throughput = Math.Max(1, options.ThroughputRequests) * ((Math.Min(512, maxSeqLen) + options.MaxTokens + TokensPerBlock - 1) / TokensPerBlock);
        return Math.Max(perRequest, throughput) + 8;
    }
}
