using PdRdma.Engines.Kv;
using PdRdma.Transport;
using TorchSharp;
using static TorchSharp.torch;

namespace PdRdma.Engines.Model;

/// <summary>
/// A Llama transformer whose attention reads and writes K and V through a paged <see cref="KvPool"/>.
/// One forward pass takes several sequences of different lengths (ragged batch, padded and masked).
/// Not thread-safe: one forward at a time per model.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly Tensor _cos;
    private readonly Tensor _sin;
    private readonly ScalarType _dtype;
    private readonly bool _fusedAttention;
    private readonly Tensor _kvHeadEye;

    /// <summary>
    /// A model over <paramref name="weights"/> (owned from here on). <paramref name="fusedAttention"/> picks the
    /// attention kernel: null chooses libtorch's fused kernel on CUDA in 16-bit and the explicit one (bit-exact with
    /// llama2.c) everywhere else; tests set it to compare the two on the CPU.
    /// </summary>
    public LlamaModel(LlamaConfig config, LlamaWeights weights, Device device, bool? fusedAttention = null)
    {
        config.Validate();
        Config = config;
        Weights = weights;
        Device = device;
        _dtype = TensorFactory.ToScalarType(config.DType);
        (_cos, _sin) = BuildRotaryTables(config, device);
        // On a GPU in 16-bit, attention goes through libtorch's fused kernel with the mask built on the device; on the
        // CPU (and in float32 anywhere) it stays the explicit product + softmax that matches llama2.c bit for bit.
        _fusedAttention = fusedAttention ?? (device.type == DeviceType.CUDA && config.DType != KvDType.Float32);
        _kvHeadEye = torch.eye(config.KvHeads, dtype: _dtype, device: device).view(1, config.KvHeads, 1, config.KvHeads, 1);
    }

    public LlamaConfig Config { get; }

    public LlamaWeights Weights { get; }

    public Device Device { get; }

    /// <summary>
    /// Runs the new tokens of each item, storing their K and V in the pool at the slots of each item's block table
    /// (which must already cover StartPos + Tokens.Count positions). <paramref name="afterLayer"/> runs once each
    /// layer's K and V are in the pool. Returns float32 logits on the CPU: [items, vocab] for the last new token of
    /// each item, or [items, maxNewTokens, vocab] when <paramref name="allPositions"/> is set.
    /// </summary>
    public Tensor Forward(IReadOnlyList<ForwardItem> batch, KvPool pool, Action<int>? afterLayer = null, bool allPositions = false)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) throw new ArgumentException("empty batch", nameof(batch));
        CheckPool(pool.Layout);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();

        int b = batch.Count;
        int tMax = batch.Max(i => i.Tokens.Count);
        int lMax = batch.Max(i => i.StartPos + i.Tokens.Count);
        if (lMax > Config.MaxSeqLen) throw new ArgumentException($"sequence of {lMax} positions exceeds the model's {Config.MaxSeqLen}");
        int hd = Config.EffectiveHeadDim, heads = Config.Heads, kvHeads = Config.KvHeads;

        var tokens = new long[b * tMax];
        var positions = new long[b * tMax];
        var newRows = new List<long>();
        var newSlots = new List<long>();
        var ctxSlots = new long[b * lMax];
        var mask = _fusedAttention ? [] : new float[b * tMax * lMax];
        var lastRow = new long[b];
        for (int i = 0; i < b; i++)
        {
            var item = batch[i];
            if (item.Tokens.Count == 0) throw new ArgumentException($"batch item {i} has no tokens", nameof(batch));
            int ctxLen = item.StartPos + item.Tokens.Count;
            if (item.Table.Capacity < ctxLen) throw new ArgumentException($"block table of item {i} covers {item.Table.Capacity} positions, {ctxLen} needed");
            for (int t = 0; t < tMax; t++)
            {
                int row = i * tMax + t;
                bool valid = t < item.Tokens.Count;
                int pos = valid ? item.StartPos + t : 0;
                tokens[row] = valid ? item.Tokens[t] : 0;
                positions[row] = pos;
                if (valid)
                {
                    newRows.Add(row);
                    newSlots.Add(item.Table.SlotOf(pos));
                }
                for (int j = 0; j < lMax && !_fusedAttention; j++)
                {
                    mask[(long)row * lMax + j] = j <= pos ? 0f : float.NegativeInfinity;
                }
            }
            for (int j = 0; j < lMax; j++) ctxSlots[i * lMax + j] = j < ctxLen ? item.Table.SlotOf(j) : item.Table.SlotOf(0);
            lastRow[i] = i * tMax + item.Tokens.Count - 1;
        }

        var tokenT = torch.tensor(tokens, device: Device);
        var posT = torch.tensor(positions, device: Device);
        var newRowsT = torch.tensor(newRows.ToArray(), device: Device);
        // Slot indices live where the pool lives (index_copy_/index_select want them on the tensor's device).
        var poolDevice = pool.Tensor.device;
        var newSlotsCpu = torch.tensor(newSlots.ToArray(), device: poolDevice);
        var ctxSlotsCpu = torch.tensor(ctxSlots, device: poolDevice);
        bool causalPrefill = b == 1 && batch[0].StartPos == 0;
        // One new token per sequence and every context equally long: every key is visible to every query, no mask.
        bool fullView = tMax == 1 && batch.All(i => i.StartPos + 1 == lMax);
        Tensor? maskT = _fusedAttention
            ? causalPrefill || fullView ? null : torch.arange(lMax, ScalarType.Int64, Device).view(1, 1, 1, lMax) <= posT.view(b, 1, tMax, 1)
            : torch.tensor(mask, [b, 1, tMax, lMax], device: Device);
        var cos = _cos.index_select(0, posT).view(b, tMax, 1, hd / 2);
        var sin = _sin.index_select(0, posT).view(b, tMax, 1, hd / 2);
        float scale = 1f / MathF.Sqrt(hd);

        var x = Weights.Embedding.index_select(0, tokenT).view(b, tMax, Config.Dim);
        for (int l = 0; l < Config.Layers; l++)
        {
            var w = Weights.Layers[l];
            var h = RmsNorm(x, w.AttentionNorm);
            var q = Rotate(nn.functional.linear(h, w.Wq).view(b, tMax, heads, hd), cos, sin);
            var k = Rotate(nn.functional.linear(h, w.Wk).view(b, tMax, kvHeads, hd), cos, sin);
            var v = nn.functional.linear(h, w.Wv).view(b, tMax, kvHeads, hd);

            pool.WriteSlots(l, KvPart.Key, newSlotsCpu, k.view(b * tMax, kvHeads, hd).index_select(0, newRowsT));
            pool.WriteSlots(l, KvPart.Value, newSlotsCpu, v.view(b * tMax, kvHeads, hd).index_select(0, newRowsT));

            var kCtx = pool.ReadSlots(l, KvPart.Key, ctxSlotsCpu).to(_dtype, Device).view(b, lMax, kvHeads, hd);
            var vCtx = pool.ReadSlots(l, KvPart.Value, ctxSlotsCpu).to(_dtype, Device).view(b, lMax, kvHeads, hd);
            Tensor o;
            if (_fusedAttention)
            {
                if (Config.KvGroup > 1)
                {
                    kCtx = kCtx.repeat_interleave(Config.KvGroup, 2);
                    vCtx = vCtx.repeat_interleave(Config.KvGroup, 2);
                }
                o = nn.functional.scaled_dot_product_attention(q.permute(0, 2, 1, 3), kCtx.permute(0, 2, 1, 3), vCtx.permute(0, 2, 1, 3), maskT, 0.0, causalPrefill)
                    .permute(0, 2, 1, 3).reshape(b, tMax, heads * hd);
            }
            else
            {
                o = tMax == 1 ? DecodeAttention(q, kCtx, vCtx, maskT!, b, lMax, scale) : GroupedAttention(q, kCtx, vCtx, maskT!, b, tMax, lMax, scale);
            }
            x = x + nn.functional.linear(o, w.Wo);

            h = RmsNorm(x, w.FfnNorm);
            var gate = nn.functional.silu(nn.functional.linear(h, w.W1));
            x = x + nn.functional.linear(gate * nn.functional.linear(h, w.W3), w.W2);
            afterLayer?.Invoke(l);
        }

        x = RmsNorm(x, Weights.FinalNorm);
        Tensor logits;
        if (allPositions)
        {
            logits = nn.functional.linear(x, Weights.Classifier);
        }
        else
        {
            var last = x.view(b * tMax, Config.Dim).index_select(0, torch.tensor(lastRow, device: Device));
            logits = nn.functional.linear(last, Weights.Classifier);
        }
        return logits.to(ScalarType.Float32).cpu().contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Attention of several new tokens per sequence (prefill), grouped-query without repeating K and V per query head:
    /// the query heads of one KV head become rows of their own ([b, kvH, t * group, hd], row = t * group + g; head
    /// h = kvHead * group + g, as repeat_interleave numbers them), so each KV head's context is multiplied once.
    /// q: [b, t, H, hd]; kCtx, vCtx: [b, L, kvH, hd]; mask: [b, 1, t, L]. Returns [b, t, H * hd].
    /// </summary>
    private Tensor GroupedAttention(Tensor q, Tensor kCtx, Tensor vCtx, Tensor mask, int b, int tMax, int lMax, float scale)
    {
        int g = Config.KvGroup, kvHeads = Config.KvHeads, hd = Config.EffectiveHeadDim;
        var qg = q.view(b, tMax, kvHeads, g, hd).permute(0, 2, 1, 3, 4).reshape(b, kvHeads, tMax * g, hd);
        var maskG = g == 1 ? mask : mask.unsqueeze(3).expand(b, 1, tMax, g, lMax).reshape(b, 1, tMax * g, lMax);
        var scores = torch.matmul(qg, kCtx.permute(0, 2, 3, 1)).to(ScalarType.Float32) * scale + maskG;   // [b, kvH, t*g, L]
        var att = scores.softmax(-1).to(_dtype);
        return torch.matmul(att, vCtx.permute(0, 2, 1, 3))                                                  // [b, kvH, t*g, hd]
            .view(b, kvHeads, tMax, g, hd).permute(0, 2, 1, 3, 4).reshape(b, tMax, Config.Heads * hd);
    }

    /// <summary>
    /// Attention of one new token per sequence (a decode step) on the gathered context as it lies, [b, L, kvH * hd], with
    /// no copy of it: the query is spread block-diagonally over the KV heads ([b, kvH * hd, H], zero outside each query
    /// head's own KV head), so one matmul gives every head's scores [b, H, L] and one more every head's output against
    /// every KV head, of which the own KV head's block is kept. The zeros cost flops the tiny heads of a decode step can
    /// spare; permuting the context for a per-head matmul copied it twice and was most of a large batch's step time.
    /// The sums are over the same products (the others are exact zeros). q: [b, 1, H, hd]; mask: [b, 1, 1, L].
    /// </summary>
    private Tensor DecodeAttention(Tensor q, Tensor kCtx, Tensor vCtx, Tensor mask, int b, int lMax, float scale)
    {
        int g = Config.KvGroup, kvHeads = Config.KvHeads, hd = Config.EffectiveHeadDim, heads = Config.Heads;
        // [b, kvH, hd, 1, g] * eye [1, kvH, 1, kvH, 1] → [b, kvH(d), hd, kvH(h), g] → [b, kvH * hd, H]
        var spread = (q.view(b, kvHeads, g, hd).permute(0, 1, 3, 2).unsqueeze(3) * _kvHeadEye).reshape(b, kvHeads * hd, heads);
        var scores = torch.matmul(spread.transpose(1, 2), kCtx.view(b, lMax, kvHeads * hd).transpose(1, 2)).to(ScalarType.Float32) * scale
            + mask.view(b, 1, lMax);                                                                          // [b, H, L]
        var att = scores.softmax(-1).to(_dtype);
        var all = torch.matmul(att, vCtx.view(b, lMax, kvHeads * hd));                                       // [b, H, kvH * hd]
        // Keep head h's own KV head block: [b, kvH, g, kvH, hd] diagonal over the two kvH dims → [b, g, hd, kvH].
        return all.view(b, kvHeads, g, kvHeads, hd).diagonal(0, 1, 3).permute(0, 3, 1, 2).reshape(b, 1, heads * hd);
    }

    private Tensor RmsNorm(Tensor x, Tensor weight)
    {
        var xf = x.to(ScalarType.Float32);
        var norm = xf * torch.rsqrt(xf.pow(2).mean([-1L], keepdim: true) + Config.NormEps);
        return (norm.to(_dtype) * weight);
    }

    private Tensor Rotate(Tensor x, Tensor cos, Tensor sin)
    {
        // x: [b, t, heads, hd]; cos/sin: [b, t, 1, hd/2] in float32
        var shape = x.shape;
        var xf = x.to(ScalarType.Float32);
        Tensor x0, x1;
        if (Config.Rope == RopeStyle.AdjacentPairs)
        {
            var pairs = xf.view(shape[0], shape[1], shape[2], shape[3] / 2, 2);
            x0 = pairs.select(-1, 0);
            x1 = pairs.select(-1, 1);
            var r0 = x0 * cos - x1 * sin;
            var r1 = x0 * sin + x1 * cos;
            return torch.stack([r0, r1], -1).view(shape).to(_dtype);
        }
        var half = shape[3] / 2;
        x0 = xf.narrow(-1, 0, half);
        x1 = xf.narrow(-1, half, half);
        return torch.cat([x0 * cos - x1 * sin, x1 * cos + x0 * sin], -1).to(_dtype);
    }

    private static (Tensor Cos, Tensor Sin) BuildRotaryTables(LlamaConfig config, Device device)
    {
        int hd = config.EffectiveHeadDim, half = hd / 2;
        var cos = new float[config.MaxSeqLen * half];
        var sin = new float[config.MaxSeqLen * half];
        for (int i = 0; i < half; i++)
        {
            // Same float arithmetic as llama2.c's run.c, so angles agree bit for bit.
            float freq = 1.0f / MathF.Pow(config.RopeTheta, (2 * i) / (float)hd);
            for (int pos = 0; pos < config.MaxSeqLen; pos++)
            {
                float val = pos * freq;
                cos[pos * half + i] = MathF.Cos(val);
                sin[pos * half + i] = MathF.Sin(val);
            }
        }
        return (torch.tensor(cos, [config.MaxSeqLen, half], device: device), torch.tensor(sin, [config.MaxSeqLen, half], device: device));
    }

    public void Dispose()
    {
        _cos.Dispose();
        _sin.Dispose();
        _kvHeadEye.Dispose();
        Weights.Dispose();
    }

    /// <summary>
    /// A pool this model computes on: the model's layers, heads and head size, all KV heads (tensor-parallel degree 1:
    /// this engine computes every head); block size, KV dtype and storage order are the pool's own.
    /// </summary>
    public void CheckPool(KvLayout layout)
    {
        Config.KvLayout(layout.TokensPerBlock, layout.Blocks).EnsureTranslatableTo(layout);
        if (layout.TpDegree != 1)
        {
            throw new TransferException(TransferErrorCode.LayoutMismatch, $"this engine computes every KV head; a pool of rank {layout.TpRank}/{layout.TpDegree} holds only {layout.KvHeads}");
        }
    }
}
