namespace PdRdma.Engines.Serving.Api;

/// <summary>One event of the decode engine's internal stream: a token, the end, or an error.</summary>
public sealed record TokenEvent(int? Token = null, string? Text = null, bool Done = false, string? FinishReason = null, string? Error = null);
