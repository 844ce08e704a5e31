using PdRdma.Engines.Kv;

namespace PdRdma.Engines.Model;

/// <summary>New tokens of one sequence for a forward pass: positions StartPos.. StartPos+Tokens.Length-1.</summary>
public sealed record ForwardItem(IReadOnlyList<int> Tokens, int StartPos, BlockTable Table);
