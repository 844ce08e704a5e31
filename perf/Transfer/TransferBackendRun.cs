namespace PdRdma.Perf.Transfer;

/// <summary>The records one initiator process reported for one backend on one path, and what it connected with.</summary>
public sealed record TransferBackendRun(string Backend, string Path, string? BackendReason, IReadOnlyList<InitiatorRecord> Records);
