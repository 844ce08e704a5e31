namespace PdRdma.Perf.E2e;

/// <summary>One request in one engine: time to the first token (prefill), mean time per later token.</summary>
public sealed record ColocatedSample(double TtftMs, double TpotMs, int Tokens);
