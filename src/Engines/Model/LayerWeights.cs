using TorchSharp;
using static TorchSharp.torch;

namespace PdRdma.Engines.Model;

/// <summary>The tensors of one transformer block, in nn.Linear (out, in) layout.</summary>
public sealed class LayerWeights : IDisposable
{
    public required Tensor AttentionNorm { get; init; }
    public required Tensor Wq { get; init; }
    public required Tensor Wk { get; init; }
    public required Tensor Wv { get; init; }
    public required Tensor Wo { get; init; }
    public required Tensor FfnNorm { get; init; }
    public required Tensor W1 { get; init; }
    public required Tensor W2 { get; init; }
    public required Tensor W3 { get; init; }

    internal IEnumerable<Tensor> All => [AttentionNorm, Wq, Wk, Wv, Wo, FfnNorm, W1, W2, W3];

    public void Dispose()
    {
        foreach (var t in All) t.Dispose();
    }
}
