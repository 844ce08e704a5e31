using System.Text.Json;

namespace PdRdma.Hosting.Clients;

/// <summary>One streamed completion as a client saw it.</summary>
public sealed record CompletionResult(string Text, int Tokens, double TtftMs, double TpotMs, JsonElement? Stats);
