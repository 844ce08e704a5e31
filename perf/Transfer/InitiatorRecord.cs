namespace PdRdma.Perf.Transfer;

/// <summary>One line the initiator process prints: a measured point of its plan (JSON, snake_case).</summary>
public sealed record InitiatorRecord
{
    /// <summary>"size" (one write per batch), "batch" (many writes per batch), "kv" (blocks vs one extent), "connected".</summary>
    public required string Kind { get; init; }
    public string? Backend { get; init; }
    public string? BackendReason { get; init; }
    public long Bytes { get; init; }
    public int Ops { get; init; } = 1;
    public double Gbps { get; init; }
    public int Iterations { get; init; }
    public double? LatencyP50Us { get; init; }
    public double? LatencyP99Us { get; init; }
    public double? ContiguousGbps { get; init; }
}
