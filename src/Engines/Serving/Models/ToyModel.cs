using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PdRdma.Transport;

namespace PdRdma.Engines.Serving.Models;

/// <summary>
/// A small deterministic model without TorchSharp (<c>--model toy</c>): fault tests use it because its prefill honours
/// a per-layer pause that holds a KV push open. Characters are tokens, each layer writes float32 K and V per token into the paged pool, and every
/// decode step reads all earlier V of every layer back from the pool, so a single wrong KV byte changes the output.
/// Thread-safe for concurrent requests on disjoint blocks.
/// </summary>
public sealed class ToyModel : IServingModel
{
    private const int Width = 16; // kvHeads * headDim
    private const int Vocab = 95; // printable ASCII 32..126
    private readonly HostRegion _pool;
    private readonly Stack<int> _free;
    private readonly object _lock = new();
    private readonly float[][] _embedding;

    public ToyModel(int blocks = 4096, string? directory = null)
    {
        Layout = new KvLayout(layers: 4, kvHeads: 2, headDim: 8, tokensPerBlock: 16, KvDType.Float32, blocks);
        _pool = HostRegion.Create($"toy-{Environment.ProcessId}-{Guid.NewGuid():N}", Layout.TotalBytes, directory);
        _free = new Stack<int>(Enumerable.Range(0, blocks).Reverse());
        _embedding = Enumerable.Range(0, Vocab).Select(v => Vector(v * 7919 + 13, 0)).ToArray();
    }

    public string Name => "toy";

    public KvLayout Layout { get; }

    public IMemoryRegion Pool => _pool;

    public int ContextLength => 4096;

    public int VocabSize => Vocab;

    public int MaxTokenBytes => 1;

    public int Running => 0;

    public int Queued => 0;

    public int[] Encode(string text) => text.Select(c => c is >= ' ' and <= '~' ? c - ' ' : '?' - ' ').ToArray();

    public string TokenText(int previous, int token) => ((char)(token + ' ')).ToString();

    private int[] Allocate(int blocks)
    {
        lock (_lock)
        {
            if (_free.Count < blocks)
                throw new TransferException(TransferErrorCode.PoolFull, $"KV pool of {Layout.Blocks} blocks has {_free.Count} free, {blocks} needed");
            var taken = new int[blocks];
            for (var i = 0; i < blocks; i++) taken[i] = _free.Pop();
            return taken;
        }
    }

    private void Free(IEnumerable<int> blocks)
    {
        lock (_lock) foreach (var b in blocks) _free.Push(b);
    }

    private int BlocksFor(int tokens) => Math.Max(1, (tokens + Layout.TokensPerBlock - 1) / Layout.TokensPerBlock);

    public int FreeBlocks { get { lock (_lock) return _free.Count; } }

    public async Task<PrefillOutcome> PrefillAsync(int[] prompt, Sampling.SamplingOptions sampling, Func<int, IReadOnlyList<int>, Task> afterLayer, CancellationToken ct)
    {
        if (prompt.Length == 0) prompt = [0];
        var blocks = Allocate(BlocksFor(prompt.Length));
        try
        {
            var hidden = prompt.Select((t, p) => Embed(t, p)).ToArray();
            for (var layer = 0; layer < Layout.Layers; layer++)
            {
                ct.ThrowIfCancellationRequested();
                var sum = new float[Width];
                for (var p = 0; p < prompt.Length; p++)
                {
                    var (k, v) = KeyValue(hidden[p], layer);
                    Store(blocks, layer, p, k, v);
                    Mix(hidden[p], v, sum, p + 1);
                }
                await afterLayer(layer, blocks).ConfigureAwait(false);
            }
            return new PrefillOutcome(Sample(hidden[^1]), blocks);
        }
        catch
        {
            Free(blocks);
            throw;
        }
    }

    public void ReleasePrefill(PrefillOutcome outcome) => Free(outcome.Blocks);

    public DecodeReservation Reserve(string requestId, int promptLength) =>
        new(requestId, Allocate(BlocksFor(Math.Max(1, promptLength))), promptLength, new ReservationState());

    public void Release(DecodeReservation reservation)
    {
        if (reservation.Handle is ReservationState state && Interlocked.Exchange(ref state.Done, 1) == 0) Free(reservation.Blocks);
    }

    /// <summary>Greedy only: the toy model ignores sampling settings.</summary>
    public async IAsyncEnumerable<EngineToken> ResumeAsync(DecodeReservation reservation, int[] prompt, int firstToken, ulong rngState, GenerationSettings settings, [EnumeratorCancellation] CancellationToken ct)
    {
        var maxTokens = settings.MaxTokens;
        if (reservation.Handle is not ReservationState state || Interlocked.Exchange(ref state.Done, 1) != 0)
            throw new TransferException(TransferErrorCode.Timeout, $"the reservation of {reservation.RequestId} was already used or released");
        var blocks = reservation.Blocks.ToList();
        try
        {
            var length = Math.Max(1, prompt.Length);
            var token = firstToken;
            for (var produced = 0; produced < maxTokens; produced++)
            {
                yield return new EngineToken(token);
                if (produced + 1 == maxTokens) break;
                ct.ThrowIfCancellationRequested();
                var position = length + produced;
                if (position / Layout.TokensPerBlock >= blocks.Count) blocks.AddRange(Allocate(1));
                var hidden = Embed(token, position);
                for (var layer = 0; layer < Layout.Layers; layer++)
                {
                    var (k, v) = KeyValue(hidden, layer);
                    Store(blocks, layer, position, k, v);
                    var sum = new float[Width];
                    for (var p = 0; p <= position; p++) Accumulate(sum, Load(blocks, layer, KvPart.Value, p));
                    Mix(hidden, v, sum, position + 1, accumulated: true);
                }
                token = Sample(hidden);
                if (produced % 8 == 7) await Task.Yield();
            }
            yield return EngineToken.End("length");
        }
        finally
        {
            Free(blocks);
        }
    }

    public async IAsyncEnumerable<EngineToken> GenerateAsync(int[] prompt, GenerationSettings settings, [EnumeratorCancellation] CancellationToken ct)
    {
        var prefill = await PrefillAsync(prompt, settings.Sampling, (_, _) => Task.CompletedTask, ct).ConfigureAwait(false);
        var reservation = new DecodeReservation("colocated", prefill.Blocks, prompt.Length, new ReservationState());
        await foreach (var token in ResumeAsync(reservation, prompt, prefill.FirstToken, 0, settings, ct).ConfigureAwait(false))
            yield return token;
    }

    private sealed class ReservationState
    {
        public int Done;
    }

    private float[] Embed(int token, int position)
    {
        var e = (float[])_embedding[token].Clone();
        for (var i = 0; i < Width; i++) e[i] += MathF.Sin(position * (i + 1) * 0.37f) * 0.5f;
        return e;
    }

    private static (float[] K, float[] V) KeyValue(float[] hidden, int layer)
    {
        var k = new float[Width];
        var v = new float[Width];
        for (var i = 0; i < Width; i++)
        {
            k[i] = MathF.Tanh(hidden[i] * (1.1f + layer) + hidden[(i + 3) % Width] * 0.3f);
            v[i] = MathF.Tanh(hidden[(i + 5) % Width] * (0.9f - 0.1f * layer) - hidden[i] * 0.2f + k[i] * 0.1f);
        }
        return (k, v);
    }

    /// <summary>hidden = 0.5·hidden + 0.5·mean(V[0..position]); in prefill the running sum is built here, in decode it is read from the pool.</summary>
    private static void Mix(float[] hidden, float[] v, float[] sum, int count, bool accumulated = false)
    {
        if (!accumulated) Accumulate(sum, v);
        for (var i = 0; i < Width; i++) hidden[i] = 0.5f * hidden[i] + 0.5f * (sum[i] / count);
    }

    private static void Accumulate(float[] sum, ReadOnlySpan<float> v)
    {
        for (var i = 0; i < Width; i++) sum[i] += v[i];
    }

    private int Sample(float[] hidden)
    {
        var best = 0;
        var bestScore = float.NegativeInfinity;
        for (var t = 0; t < Vocab; t++)
        {
            var score = 0f;
            for (var i = 0; i < Width; i++) score += hidden[i] * _embedding[t][i];
            if (score > bestScore) (best, bestScore) = (t, score);
        }
        return best;
    }

    private void Store(IReadOnlyList<int> blocks, int layer, int position, float[] k, float[] v)
    {
        Slot(blocks, layer, KvPart.Key, position).CopyFrom(k);
        Slot(blocks, layer, KvPart.Value, position).CopyFrom(v);
    }

    private ReadOnlySpan<float> Load(IReadOnlyList<int> blocks, int layer, KvPart part, int position) => Slot(blocks, layer, part, position);

    private Span<float> Slot(IReadOnlyList<int> blocks, int layer, KvPart part, int position)
    {
        var extent = Layout.Extent(layer, part, blocks[position / Layout.TokensPerBlock]);
        var offset = extent.Offset + (long)(position % Layout.TokensPerBlock) * Width * sizeof(float);
        return MemoryMarshal.Cast<byte, float>(_pool.AsSpan(offset, Width * sizeof(float)));
    }

    private static float[] Vector(int seed, int salt)
    {
        var random = new Random(seed + salt);
        return Enumerable.Range(0, Width).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    public void Dispose() => _pool.Dispose();
}

internal static class SpanExtensions
{
    public static void CopyFrom(this Span<float> target, float[] source) => source.AsSpan().CopyTo(target);
}
