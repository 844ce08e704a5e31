using PdRdma.Transport;

namespace PdRdma.Engines.Model;

/// <summary>Shape and numerics of a Llama model. Immutable.</summary>
public sealed record LlamaConfig
{
    public required int Dim { get; init; }
    public required int HiddenDim { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int VocabSize { get; init; }
    public required int MaxSeqLen { get; init; }
    public int HeadDim { get; init; }
    public float NormEps { get; init; } = 1e-5f;
    public float RopeTheta { get; init; } = 10000f;
    public RopeStyle Rope { get; init; } = RopeStyle.AdjacentPairs;
    public bool SharedClassifier { get; init; } = true;

    /// <summary>Element type of weights, activations and the KV cache (Float32 or BFloat16).</summary>
    public KvDType DType { get; init; } = KvDType.Float32;

    public int EffectiveHeadDim => HeadDim > 0 ? HeadDim : Dim / Heads;

    public int KvGroup => Heads / KvHeads;

    /// <summary>KV layout of a pool for this model with the given block geometry.</summary>
    public KvLayout KvLayout(int tokensPerBlock, int blocks) => new(Layers, KvHeads, EffectiveHeadDim, tokensPerBlock, DType, blocks);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent field.</summary>
    public void Validate()
    {
        Check(Dim > 0, nameof(Dim));
        Check(HiddenDim > 0, nameof(HiddenDim));
        Check(Layers > 0, nameof(Layers));
        Check(Heads > 0, nameof(Heads));
        Check(KvHeads > 0 && Heads % KvHeads == 0, nameof(KvHeads));
        Check(VocabSize > 0, nameof(VocabSize));
        Check(MaxSeqLen > 0, nameof(MaxSeqLen));
        Check(HeadDim > 0 || Dim % Heads == 0, nameof(HeadDim));
        Check(EffectiveHeadDim % 2 == 0, nameof(HeadDim));
        Check(DType is KvDType.Float32 or KvDType.BFloat16, nameof(DType));
    }

    private void Check(bool ok, string field)
    {
        if (!ok) throw new ArgumentException($"model config field {field} is invalid in {this}");
    }
}
