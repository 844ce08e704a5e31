using PdRdma.Engines.Model;
using PdRdma.Engines.Tokenization;

namespace PdRdma.Engines.Loading;

/// <summary>A model ready to run and its tokenizer. Owns the model.</summary>
public sealed class LoadedModel(string name, LlamaModel model, ITokenizer tokenizer) : IDisposable
{
    public string Name { get; } = name;

    public LlamaModel Model { get; } = model;

    public ITokenizer Tokenizer { get; } = tokenizer;

    public LlamaConfig Config => Model.Config;

    public void Dispose() => Model.Dispose();
}
