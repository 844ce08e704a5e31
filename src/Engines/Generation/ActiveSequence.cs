using PdRdma.Engines.Kv;
using PdRdma.Engines.Sampling;

namespace PdRdma.Engines.Generation;

/// <summary>A sequence being decoded: its blocks, the positions cached so far, its sampler and output.</summary>
internal sealed class ActiveSequence(GenerationRequest request, BlockTable table, Sampler sampler, Action<int>? onToken)
{
    public GenerationRequest Request { get; } = request;
    public BlockTable Table { get; } = table;
    public Sampler Sampler { get; } = sampler;
    public Action<int>? OnToken { get; } = onToken;
    public List<int> Generated { get; } = [];

    /// <summary>Positions whose K and V are in the pool.</summary>
    public int CachedPositions { get; set; }

    public StopReason? Stopped { get; set; }

    public int LastToken => Generated.Count > 0 ? Generated[^1] : Request.PromptTokens[^1];

    public GenerationResult Result() => new(Request.PromptTokens, Generated, Stopped ?? StopReason.MaxTokens);
}
