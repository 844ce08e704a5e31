namespace PdRdma.Perf.E2e;

/// <summary>
/// One request split across two processes. <see cref="TtftMs"/>: request start until the decoding process holds the
/// complete KV and the first token. <see cref="PrefillComputeMs"/>: the prefill forward pass alone, so that
/// TTFT minus it is the transfer time not hidden behind compute. <see cref="TransferMs"/>: time inside transfer calls.
/// </summary>
public sealed record DisaggSample(double TtftMs, double TpotMs, int Tokens, double PrefillComputeMs, double TransferMs, long KvBytes, string Backend);
