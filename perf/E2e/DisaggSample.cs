namespace PdRdma.Perf.E2e;

/// <summary>
/// One request split across two processes. <see cref="TtftMs"/>: request start (block reservation included) until
/// every KV byte is placed in the decoding process and the first token is known. <see cref="PrefillComputeMs"/>: the
/// prefill forward pass alone. <see cref="ExposedTransferMs"/>: from the end of prefill compute until the last write
/// completed — the transfer time not hidden behind compute. <see cref="TransferMs"/>: the sum of write durations.
/// </summary>
public sealed record DisaggSample(double TtftMs, double TpotMs, int Tokens, double PrefillComputeMs, double ExposedTransferMs, double TransferMs, long KvBytes, string Backend);
