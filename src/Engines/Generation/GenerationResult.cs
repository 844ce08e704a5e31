namespace PdRdma.Engines.Generation;

/// <summary>The tokens a generation produced after its prompt, and why it stopped.</summary>
public sealed record GenerationResult(IReadOnlyList<int> PromptTokens, IReadOnlyList<int> Generated, StopReason Reason);
