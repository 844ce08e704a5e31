namespace PdRdma.Engines.Serving;

/// <summary>Blocks reserved on a decode engine for one request's prompt KV. Handle is the engine's own lease.</summary>
public sealed record DecodeReservation(string RequestId, IReadOnlyList<int> Blocks, int PromptLength, object? Handle = null);
