namespace PdRdma.Perf.Serving;

/// <summary>
/// Where a disaggregated request's first token went, as the proxy measured it (ms): the reserve round trip to the decode
/// instance, the prefill round trip (of which the prefill compute and the part of the KV push after it), and the decode
/// call until its first token (the decode instance waiting for the KV's arrival notice, then the first SSE event).
/// </summary>
public sealed record TtftParts(double ReserveMs = 0, double PrefillCallMs = 0, double PrefillComputeMs = 0, double ExposedTransferMs = 0, double DecodeFirstTokenMs = 0);
