namespace PdRdma.Engines.Serving;

/// <summary>
/// One event of a generation: a sampled token, or (last, <see cref="Token"/> -1) the end with its OpenAI
/// finish_reason: "stop" when the model ended the text, "length" at max_tokens or the context's end.
/// </summary>
public readonly record struct EngineToken(int Token, string? Finish = null)
{
    public bool IsEnd => Finish is not null;

    public static EngineToken End(string finish) => new(-1, finish);
}
