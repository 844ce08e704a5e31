namespace PdRdma.Perf.E2e;

/// <summary>A random Llama chosen for a large KV cache with little compute: many KV heads, a narrow MLP, bfloat16.</summary>
public sealed record RandomModelShape(int Layers, int Dim, int Heads, int KvHeads, int HeadDim, int HiddenDim, int Vocab, int MaxSeqLen, string DType)
{
    /// <summary>16 layers, 8 KV heads of 128: 64 KiB of KV per token, 256 MiB for a 4096-token prompt.</summary>
    public static RandomModelShape Default { get; } = new(Layers: 16, Dim: 1024, Heads: 8, KvHeads: 8, HeadDim: 128, HiddenDim: 1024, Vocab: 512, MaxSeqLen: 4608, DType: "bfloat16");

    public long KvBytesPerToken => 2L * Layers * KvHeads * HeadDim * (DType == "float32" ? 4 : 2);

    public string Name => $"random-{Layers}L-{KvHeads}kv-{HeadDim}d-{(DType == "float32" ? "f32" : "bf16")}";
}
