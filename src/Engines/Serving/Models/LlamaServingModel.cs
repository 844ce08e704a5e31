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
/// PrefillEngine (layer hook) and DecodeEngine (reserve → resume) of src/Engines/Split. The engines serialise their
/// forward passes; blocking calls run on the thread pool and stream tokens through a channel.
/// </summary>
public sealed class LlamaServingModel : IServingModel
{
    private readonly LoadedModel _model;
    private readonly KvPool _pool;
    private readonly LlamaEngine _engine;
    private readonly PrefillEngine _prefill;
    private readonly DecodeEngine _decode;

    public LlamaServingModel(string spec, int tokensPerBlock = 16, int blocks = 1024, TimeSpan? leaseDuration = null, EngineDevice device = default)
    {
        _model = ModelSource.Load(spec, new ModelLoadOptions { Device = device });
        try
        {
            _pool = KvPool.Create(_model.Config.KvLayout(tokensPerBlock, blocks), $"serve-{Environment.ProcessId}-{Guid.NewGuid():N}", device);
        }
        catch
        {
            _model.Dispose();
            throw;
        }
        _engine = new LlamaEngine(_model, _pool);
        _prefill = new PrefillEngine(_engine);
        _decode = new DecodeEngine(_engine, leaseDuration ?? TimeSpan.FromMinutes(2));
        Name = spec;
    }

    public string Name { get; }

    public KvLayout Layout => _pool.Layout;

    public IMemoryRegion Pool => _pool.MemoryRegion;

    public int FreeBlocks => _pool.Allocator.FreeCount;

    public int[] Encode(string text) => _model.Tokenizer.Encode(text, bos: true);

    public string TokenText(int previous, int token) => Encoding.UTF8.GetString(_model.Tokenizer.DecodePiece(previous < 0 ? _model.Tokenizer.BosId : previous, token));

    public async Task<PrefillOutcome> PrefillAsync(int[] prompt, Func<int, IReadOnlyList<int>, Task> afterLayer, CancellationToken ct)
    {
        var pushes = new List<Task>();
        var result = await Task.Run(() => _prefill.Prefill(prompt, SamplingOptions.Greedy, (layer, blocks) => pushes.Add(afterLayer(layer, blocks))), ct).ConfigureAwait(false);
        await Task.WhenAll(pushes).ConfigureAwait(false);
        return new PrefillOutcome(result.FirstToken, result.BlockIds, result);
    }

    public void ReleasePrefill(PrefillOutcome outcome) => _prefill.Release((PrefillResult)outcome.Handle!);

    public DecodeReservation Reserve(string requestId, int promptLength)
    {
        var lease = _decode.Reserve(requestId, promptLength);
        return new DecodeReservation(requestId, lease.BlockIds, promptLength, lease);
    }

    public void Release(DecodeReservation reservation) => _decode.Release((KvLease)reservation.Handle!);

    public IAsyncEnumerable<int> ResumeAsync(DecodeReservation reservation, int[] prompt, int firstToken, int maxTokens, CancellationToken ct) =>
        Stream(onToken => _decode.Resume((KvLease)reservation.Handle!, new PrefillResult(prompt, firstToken, 0, []), maxTokens, SamplingOptions.Greedy, onToken), ct);

    public IAsyncEnumerable<int> GenerateAsync(int[] prompt, int maxTokens, CancellationToken ct) =>
        Stream(onToken => _engine.Generate(new GenerationRequest(prompt, maxTokens, SamplingOptions.Greedy), onToken), ct);

    private static async IAsyncEnumerable<int> Stream(Func<Action<int>, GenerationResult> run, [EnumeratorCancellation] CancellationToken ct)
    {
        var tokens = Channel.CreateUnbounded<int>();
        var work = Task.Run(() =>
        {
            try
            {
                run(t => tokens.Writer.TryWrite(t));
                tokens.Writer.TryComplete();
            }
            catch (Exception e)
            {
                tokens.Writer.TryComplete(e);
            }
        }, CancellationToken.None);
        await foreach (var token in tokens.Reader.ReadAllAsync(ct).ConfigureAwait(false)) yield return token;
        await work.ConfigureAwait(false);
    }

    public void Dispose()
    {
        _pool.Dispose();
        _model.Dispose();
    }
}
