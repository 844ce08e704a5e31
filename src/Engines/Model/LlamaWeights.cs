using TorchSharp;
using static TorchSharp.torch;

namespace PdRdma.Engines.Model;

/// <summary>All tensors of a Llama model, on one device, in the config's dtype. Owns them.</summary>
public sealed class LlamaWeights : IDisposable
{
    public required Tensor Embedding { get; init; }
    public required IReadOnlyList<LayerWeights> Layers { get; init; }
    public required Tensor FinalNorm { get; init; }

    /// <summary>The classifier; the same tensor as <see cref="Embedding"/> when shared.</summary>
    public required Tensor Classifier { get; init; }

    public void Dispose()
    {
        Embedding.Dispose();
        foreach (var l in Layers) l.Dispose();
        FinalNorm.Dispose();
        if (!ReferenceEquals(Classifier, Embedding)) Classifier.Dispose();
    }
}
