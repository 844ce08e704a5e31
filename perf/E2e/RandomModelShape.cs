namespace PdRdma.Perf.E2e;

/// <summary>A random Llama chosen for a large KV cache with little compute: many KV heads, a narrow MLP, bfloat16.</summary>
public sealed record RandomModelShape(int Layers, int Dim, int Heads, int KvHeads, int HeadDim, int HiddenDim, int Vocab, int MaxSeqLen, string DType)
{
    /// <summary>
    /// 8 layers, 4 KV heads of 128, bfloat16: 16 KiB of KV per token, 64 MiB for a 4096-token prompt. Half the layers
    /// and heads of the 16-layer, 8-head shape the issue suggests: on 2 shared cores that one took 24-35 s to prefill
    /// 1024 tokens, which would put the 4096-token points alone past the 15-minute budget of the whole run.
    /// </summary>
    public static RandomModelShape Default { get; } = new(Layers: 8, Dim: 512, Heads: 4, KvHeads: 4, HeadDim: 128, HiddenDim: 512, Vocab: 512, MaxSeqLen: 4608, DType: "bfloat16");

    /// <summary>The shape the issue names (16 layers, 8 KV heads of 128: 64 KiB per token, 256 MiB at 4096 tokens), for machines with cores to spare.</summary>
    public static RandomModelShape Large { get; } = new(Layers: 16, Dim: 1024, Heads: 8, KvHeads: 8, HeadDim: 128, HiddenDim: 1024, Vocab: 512, MaxSeqLen: 4608, DType: "bfloat16");

    public long KvBytesPerToken => 2L * Layers * KvHeads * HeadDim * (DType == "float32" ? 4 : 2);

    public string Name => $"random-{Layers}L-{KvHeads}kv-{HeadDim}d-{(DType == "float32" ? "f32" : "bf16")}";
}
