namespace PdRdma.Engines.Serving.Api;

/// <summary>
/// A /v1/completions or /v1/chat/completions request after validation: the prompt as text (chat messages joined by
/// the plain template) or token ids, and the generation settings PdRdma honours.
/// </summary>
public sealed record OpenAiRequest
{
    public bool Chat { get; init; }
    public string? Model { get; init; }
    public string? PromptText { get; init; }
    public int[]? PromptTokens { get; init; }
    public int MaxTokens { get; init; } = 16;
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public float Temperature { get; init; }
    public float TopP { get; init; } = 1f;
    public ulong? Seed { get; init; }
    public int N { get; init; } = 1;
    public IReadOnlyList<string> Stop { get; init; } = [];
}
