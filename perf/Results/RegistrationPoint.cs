namespace PdRdma.Perf.Results;

/// <summary>Cost of making a region usable, by size: create + map the file, register it with an agent, first touch of its pages.</summary>
public sealed record RegistrationPoint
{
    public required long Bytes { get; init; }
    public required double CreateMs { get; init; }
    public required double RegisterMs { get; init; }
    public required double FirstTouchMs { get; init; }
}
