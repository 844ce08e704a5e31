namespace PdRdma.Engines.Serving.Api;

/// <summary>OpenAI /v1/completions request (the fields PdRdma honours; greedy decoding).</summary>
public sealed record CompletionRequest(string? Model, string? Prompt, int? MaxTokens, bool? Stream, double? Temperature);
