#if PDRDMA_ENGINES && PDRDMA_AGENT
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Network;

namespace PdRdma.Perf.E2e;

/// <summary>
/// The engines driven for the end-to-end benchmark. Colocated: one engine in this process. Disaggregated: prefill in
/// this process, decode in a <c>pdrdma bench-decode</c> process per backend, the KV written by a TransferAgent from
/// this process's pool into blocks the decode engine reserved — after each layer (overlap) or after the whole prompt.
/// </summary>
public sealed class EngineE2eHarness : IE2eHarness
{
    private const int TokensPerBlock = 16;
    private const string ColocatedKey = "colocated";
    private readonly LoadedModel _model;
    private readonly KvPool _pool;
    private readonly PrefillEngine _prefill;
    private readonly string _spec;
    private readonly string? _tokenizer;
    private readonly Dictionary<string, Decoder> _decoders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TransferAgent> _agents = new(StringComparer.Ordinal);
    private int _requests;

    private EngineE2eHarness(string name, string spec, string? tokenizer, LoadedModel model, KvPool pool)
    {
        ModelName = name;
        _spec = spec;
        _tokenizer = tokenizer;
        _model = model;
        _pool = pool;
        _prefill = new PrefillEngine(new LlamaEngine(model, pool));
    }

    public string ModelName { get; }

    public int MaxSequenceLength => _model.Config.MaxSeqLen;

    public long KvBytesPerToken => _pool.Layout.BlockBytes * 2 * _pool.Layout.Layers / _pool.Layout.TokensPerBlock;

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
        var blocks = PoolBlocks(model.Config.MaxSeqLen, options);
        var pool = KvPool.Create(model.Config.KvLayout(TokensPerBlock, blocks), $"bench-prefill-pool-{name}");
        var harness = new EngineE2eHarness(name, spec, tokenizer, model, pool);
        // first calls pay for loading native code and allocating: keep them out of the numbers
        await Task.Run(() => harness._prefill.Release(harness._prefill.Prefill(PromptMaker.Make(1, Math.Min(32, model.Config.MaxSeqLen / 4), model.Config.VocabSize), SamplingOptions.Greedy, null)), ct);
        return harness;
    }

    public IReadOnlyList<string> Describe()
    {
        var c = _model.Config;
        return
        [
            string.Create(CultureInfo.InvariantCulture,
                $"{c.Layers} layers, dim {c.Dim}, {c.Heads} heads, {c.KvHeads} KV heads of {c.EffectiveHeadDim}, MLP {c.HiddenDim}, vocab {c.VocabSize}, context {c.MaxSeqLen}, {c.DType}; " +
                $"KV {KvBytesPerToken} bytes per token in blocks of {TokensPerBlock} tokens; {Environment.ProcessorCount} cores, {EngineThreads.Count} torch thread(s) per engine process (PDRDMA_BENCH_THREADS); greedy; prompts of random token ids"),
        ];
    }

    /// <summary>
    /// Colocated runs in an engine process of its own (the same program the disaggregated decode side runs), so that both
    /// TPOTs come from the same kind of process and this one's transfer threads never share its time.
    /// </summary>
    public async Task<ColocatedSample> ColocatedAsync(int promptLen, int maxTokens, CancellationToken ct)
    {
        var engine = await DecoderAsync(ColocatedKey, ct);
        var id = $"c{Interlocked.Increment(ref _requests)}";
        await engine.Process.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"generate {id} {maxTokens} {promptLen} {promptLen}"), ct);
        var parts = (await engine.Process.ExpectAsync($"colocated {id} ", TimeSpan.FromSeconds(300), ct)).Split(' ');
        return new ColocatedSample(double.Parse(parts[2], CultureInfo.InvariantCulture), double.Parse(parts[3], CultureInfo.InvariantCulture),
            int.Parse(parts[4], CultureInfo.InvariantCulture));
    }

    public async Task<DisaggSample> DisaggregatedAsync(int promptLen, int maxTokens, string backend, bool overlap, CancellationToken ct)
    {
        var decoder = await DecoderAsync(backend, ct);
        var request = await PrefillAndPushAsync(decoder, promptLen, overlap, ct);
        await decoder.Process.WriteLineAsync(request.ResumeLine(maxTokens), ct);
        var done = (await decoder.Process.ExpectAsync($"done {request.Id} ", TimeSpan.FromSeconds(300), ct)).Split(' ');
        var tpot = double.Parse(done[3], CultureInfo.InvariantCulture);
        return new DisaggSample(request.TtftMs, tpot, int.Parse(done[2], CultureInfo.InvariantCulture), request.ComputeMs, request.ExposedMs,
            request.TransferMs, request.Bytes, decoder.Link.Backend);
    }

    public async Task<(double Colocated, double Disaggregated)> ThroughputAsync(int promptLen, int maxTokens, int requests, string backend, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < requests; i++) await ColocatedAsync(promptLen, maxTokens, ct);
        var colocated = requests / clock.Elapsed.TotalSeconds;

        var decoder = await DecoderAsync(backend, ct);
        clock.Restart();
        var ids = new List<string>();
        for (var i = 0; i < requests; i++)
        {
            // the next prefill runs while the decode process decodes the previous request
            var request = await PrefillAndPushAsync(decoder, promptLen, overlap: true, ct);
            await decoder.Process.WriteLineAsync(request.ResumeLine(maxTokens), ct);
            ids.Add(request.Id);
        }
        foreach (var id in ids) await decoder.Process.ExpectAsync($"done {id} ", TimeSpan.FromSeconds(300), ct);
        return (colocated, requests / clock.Elapsed.TotalSeconds);
    }

    private async Task<PushedRequest> PrefillAndPushAsync(Decoder decoder, int promptLen, bool overlap, CancellationToken ct)
    {
        var id = $"r{Interlocked.Increment(ref _requests)}";
        var prompt = PromptMaker.Make(promptLen, promptLen, _model.Config.VocabSize);
        var start = Stopwatch.GetTimestamp();
        await decoder.Process.WriteLineAsync($"reserve {id} {promptLen}", ct);
        var leaseLine = await decoder.Process.ExpectAsync($"lease {id} ", TimeSpan.FromSeconds(60), ct);
        var targetBlocks = leaseLine.Split(' ')[2].Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray();

        var writes = new List<Task>();
        var deferred = new List<WriteOp>();
        long bytes = 0, transferTicks = 0;
        var lastLayer = _pool.Layout.Layers - 1;
        async Task Timed(WriteBatch batch)
        {
            var t0 = Stopwatch.GetTimestamp();
            await decoder.Link.WriteAsync(batch, ct);
            Interlocked.Add(ref transferTicks, Stopwatch.GetTimestamp() - t0);
        }
        var computeStart = Stopwatch.GetTimestamp();
        var result = await Task.Run(() => _prefill.Prefill(prompt, SamplingOptions.Greedy, (layer, blocks) =>
        {
            var ops = KvHandoff.LayerCopies(_pool.Layout, blocks, decoder.Layout, targetBlocks, layer)
                .Select(c => new WriteOp(_pool.Region.Id, c.SourceOffset, DecodeServer.PoolRegion, c.TargetOffset, c.Length)).ToArray();
            bytes += ops.Sum(o => o.Length);
            if (overlap && layer < lastLayer) writes.Add(Timed(new WriteBatch(ops)));
            else deferred.AddRange(ops);
        }), ct);
        var computeEnd = Stopwatch.GetTimestamp();
        try
        {
            // the notification must follow every byte: the last batch goes once the earlier ones completed
            await Task.WhenAll(writes);
            await Timed(new WriteBatch(deferred, Encoding.UTF8.GetBytes(id)));
        }
        finally
        {
            _prefill.Release(result);
        }
        var end = Stopwatch.GetTimestamp();
        return new PushedRequest(id, promptLen, result.FirstToken, result.RngState,
            Stopwatch.GetElapsedTime(start, end).TotalMilliseconds,
            Stopwatch.GetElapsedTime(computeStart, computeEnd).TotalMilliseconds,
            Stopwatch.GetElapsedTime(computeEnd, end).TotalMilliseconds,
            TimeSpan.FromTicks(transferTicks * TimeSpan.TicksPerSecond / Stopwatch.Frequency).TotalMilliseconds, bytes);
    }

    private async Task<Decoder> DecoderAsync(string backend, CancellationToken ct)
    {
        if (_decoders.TryGetValue(backend, out var existing)) return existing;
        var colocated = backend == ColocatedKey;
        if (colocated) backend = "shm";
        if (!_agents.TryGetValue(backend, out var agent))
        {
            // one agent per backend: the backend is chosen per agent, and both ends must ask for the same one
            agent = new TransferAgent(new TransferAgentOptions
            {
                NodeId = $"bench-prefill-{backend}-{Environment.ProcessId}", Layout = _pool.Layout, Backend = BenchBackends.ToChoice(backend),
            });
            agent.RegisterRegion(_pool.Region);
            _agents[backend] = agent;
        }
        var port = FreePorts.One().ToString(CultureInfo.InvariantCulture);
        var line = PdrdmaProgram.Bench.Line(["decode", "--model", _spec, .. _tokenizer is null ? Array.Empty<string>() : ["--tokenizer", _tokenizer],
            "--backend", backend, "--listen", $"127.0.0.1:{port}", "--blocks", _pool.Layout.Blocks.ToString(CultureInfo.InvariantCulture),
            "--tokens-per-block", TokensPerBlock.ToString(CultureInfo.InvariantCulture)]);
        var process = ChildProcess.Start($"bench decode ({ModelName}, {backend})", line, redirectStdin: true);
        try
        {
            var ready = await process.ExpectAsync("ready ", TimeSpan.FromSeconds(180), ct);
            if (colocated)
            {
                var alone = new Decoder(process, null, _pool.Layout);
                _decoders[ColocatedKey] = alone;
                await process.WriteLineAsync($"generate warm 4 {Math.Min(32, MaxSequenceLength / 4)} {Math.Min(32, MaxSequenceLength / 4)}", ct);
                await process.ExpectAsync("colocated warm ", TimeSpan.FromSeconds(300), ct);
                return alone;
            }
            var connection = await agent.ConnectAsync(IPEndPoint.Parse(ready["ready ".Length..].Trim()), ct);
            if (connection.Backend != backend)
            {
                throw new InvalidOperationException($"asked for backend {backend} but the agent chose {connection.Backend}: {connection.BackendReason}");
            }
            var decoder = new Decoder(process, connection, _pool.Layout);
            _decoders[backend] = decoder;
            // a first request warms the decode process and the connection up
            var warm = await PrefillAndPushAsync(decoder, Math.Min(32, MaxSequenceLength / 4), overlap: true, ct);
            await process.WriteLineAsync(warm.ResumeLine(4), ct);
            await process.ExpectAsync($"done {warm.Id} ", TimeSpan.FromSeconds(300), ct);
            return decoder;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var decoder in _decoders.Values)
        {
            if (decoder.Connection is not null) await decoder.Connection.DisposeAsync();
            await decoder.Process.CloseInputAndWaitAsync(TimeSpan.FromSeconds(10));
            await decoder.Process.DisposeAsync();
        }
        foreach (var agent in _agents.Values) await agent.DisposeAsync();
        _pool.Dispose();
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

    private sealed record Decoder(ChildProcess Process, PeerConnection? Connection, PdRdma.Transport.KvLayout Layout)
    {
        public PeerConnection Link => Connection ?? throw new InvalidOperationException("the colocated engine process has no transfer connection");
    }

    private sealed record PushedRequest(string Id, int PromptLen, int FirstToken, ulong Rng, double TtftMs, double ComputeMs, double ExposedMs, double TransferMs, long Bytes)
    {
        public string ResumeLine(int maxTokens) => string.Create(CultureInfo.InvariantCulture, $"resume {Id} {FirstToken} {Rng} {maxTokens} {PromptLen} {PromptLen}");
    }
}
#endif
