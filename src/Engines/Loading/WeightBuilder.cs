using PdRdma.Engines.Model;
using PdRdma.Transport;
using static TorchSharp.torch;

namespace PdRdma.Engines.Loading;

/// <summary>Builds <see cref="LlamaWeights"/> from named float32 arrays; disposes what it built if any step fails.</summary>
internal sealed class WeightBuilder(KvDType dtype, Device device) : IDisposable
{
    private readonly List<Tensor> _built = [];
    private bool _done;

    public Tensor Make(float[] data, params long[] shape)
    {
        var t = TensorFactory.FromFloats(data, shape, dtype, device);
        _built.Add(t);
        return t;
    }

    public LlamaWeights Finish(Tensor embedding, IReadOnlyList<LayerWeights> layers, Tensor finalNorm, Tensor classifier)
    {
        _done = true;
        return new LlamaWeights { Embedding = embedding, Layers = layers, FinalNorm = finalNorm, Classifier = classifier };
    }

    public void Dispose()
    {
        if (_done) return;
        foreach (var t in _built) t.Dispose();
    }
}
