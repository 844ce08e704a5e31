using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;

namespace PdRdma.Engines.Serving.Models;

/// <summary>
/// The TorchSharp Llama engines behind the serving seam: a LlamaEngine over a KvPool in a shared region, with the
/// PrefillEngine (layer hook) and DecodeEngine (reserve → resume) of src/Engines/Split. Colocated generation and
/// decode-side resumes run through one ContinuousBatcher: every decode step is one batched forward pass over all
/// running sequences, new requests join at the next step, and tokens reach each request's stream as they are sampled.
/// </summary>
public sealed class LlamaServingModel : IServingModel
{
    private readonly LoadedModel _model;
    private readonly KvPool _pool;
    private readonly LlamaEngine _engine;
    private readonly PrefillEngine _prefill;
    private readonly DecodeEngine _decode;
    private readonly ContinuousBatcher _batcher;

    private readonly bool _ownsModel;

    public LlamaServingModel(string spec, int tokensPerBlock = 16, int blocks = 1024, TimeSpan? leaseDuration = null, ServingLimits? limits = null, EngineDevice device = default)
        : this(ModelSource.Load(spec, new ModelLoadOptions { Device = device }), spec, ownsModel: true, tokensPerBlock, blocks, leaseDuration, limits, device)
    {
    }

    /// <summary>
    /// Serves an already loaded model (several engines may share one: generate --split, bench e2e) over a pool of its own on
    /// <paramref name="device"/> (the model's); disposes the model only when <paramref name="ownsModel"/>.
    /// </summary>
    public LlamaServingModel(LoadedModel model, string name, bool ownsModel, int tokensPerBlock = 16, int blocks = 1024, TimeSpan? leaseDuration = null, ServingLimits? limits = null,
        EngineDevice device = default)
    {
        limits ??= ServingLimits.Default;
        _model = model;
        _ownsModel = ownsModel;
        try
        {
            _pool = KvPool.Create(_model.Config.KvLayout(tokensPerBlock, blocks), $"serve-{Environment.ProcessId}-{Guid.NewGuid():N}", device);
        }
        catch
        {
            if (ownsModel) _model.Dispose();
            throw;
        }
        _engine = new LlamaEngine(_model, _pool);
        _prefill = new PrefillEngine(_engine);
        _decode = new DecodeEngine(_engine, leaseDuration ?? TimeSpan.FromMinutes(2));
        _batcher = new ContinuousBatcher(_engine, limits.MaxBatch, limits.MaxQueue, limits.QueueTimeout);
        Name = name;
        MaxTokenBytes = Enumerable.Range(0, _model.Tokenizer.VocabSize).Max(t => _model.Tokenizer.DecodePiece(_model.Tokenizer.EosId, t).Length + 1);
    }

    public string Name { get; }

    public KvLayout Layout => _pool.Layout;

    public IMemoryRegion Pool => _pool.MemoryRegion;

    public int ContextLength => _model.Config.MaxSeqLen;

    public int VocabSize => _model.Tokenizer.VocabSize;

    public int MaxTokenBytes { get; }

    public int FreeBlocks => _pool.Allocator.FreeCount;

    public int Running => _batcher.ActiveCount;

    public int Queued => _batcher.QueuedCount;

    public int[] Encode(string text) => _model.Tokenizer.Encode(text, bos: true);

    public string TokenText(int previous, int token) => Encoding.UTF8.GetString(_model.Tokenizer.DecodePiece(previous < 0 ? _model.Tokenizer.BosId : previous, token));

    public async Task<PrefillOutcome> PrefillAsync(int[] prompt, SamplingOptions sampling, Func<int, IReadOnlyList<int>, Task> afterLayer, CancellationToken ct)
    {
        var pushes = new List<Task>();
        var result = await Task.Run(() =>
        {
            ct.ThrowIfCancellationRequested();
            return _prefill.Prefill(prompt, sampling, (layer, blocks) => pushes.Add(afterLayer(layer, blocks)));
        }, ct).ConfigureAwait(false);
        await Task.WhenAll(pushes).ConfigureAwait(false);
        return new PrefillOutcome(result.FirstToken, result.BlockIds, result, result.RngState);
    }

    public void ReleasePrefill(PrefillOutcome outcome) => _prefill.Release((PrefillResult)outcome.Handle!);

    public DecodeReservation Reserve(string requestId, int promptLength)
    {
        var lease = _decode.Reserve(requestId, promptLength);
        return new DecodeReservation(requestId, lease.BlockIds, promptLength, lease);
    }

    public void Release(DecodeReservation reservation) => _decode.Release((KvLease)reservation.Handle!);

    public IAsyncEnumerable<EngineToken> ResumeAsync(DecodeReservation reservation, int[] prompt, int firstToken, ulong rngState, GenerationSettings settings, CancellationToken ct) =>
        Stream((onToken, token) => _batcher.ResumeAsync(_decode, (KvLease)reservation.Handle!, new PrefillResult(prompt, firstToken, rngState, []),
            settings.MaxTokens, settings.Sampling, onToken, token), ct);

    public IAsyncEnumerable<EngineToken> GenerateAsync(int[] prompt, GenerationSettings settings, CancellationToken ct) =>
        Stream((onToken, token) => _batcher.GenerateAsync(new GenerationRequest(prompt, settings.MaxTokens, settings.Sampling), onToken, token), ct);

    private static async IAsyncEnumerable<EngineToken> Stream(Func<Action<int>, CancellationToken, Task<GenerationResult>> run, [EnumeratorCancellation] CancellationToken ct)
    {
        // Disposing this enumerator early (a stop string matched, the client left) cancels the batcher's request.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var tokens = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var work = run(t => tokens.Writer.TryWrite(t), abandon.Token);
        _ = work.ContinueWith(t => tokens.Writer.TryComplete(t.Exception?.InnerException), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await foreach (var token in tokens.Reader.ReadAllAsync(ct).ConfigureAwait(false)) yield return new EngineToken(token);
            var result = await work.ConfigureAwait(false);
            yield return EngineToken.End(result.Reason == StopReason.StopToken ? "stop" : "length");
        }
        finally
        {
            abandon.Cancel();
        }
    }

    public void Dispose()
    {
        _batcher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _pool.Dispose();
        if (_ownsModel) _model.Dispose();
    }
}
