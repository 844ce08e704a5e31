namespace PdRdma.Engines.Serving;

/// <summary>The text of one generated token of a choice, or (with <see cref="Finish"/> set, no text) its end.</summary>
public readonly record struct ChoicePiece(string Text, string? Finish = null);
