namespace PdRdma.Perf.Results;

/// <summary>Requests completed per second over a run of several requests, colocated vs disaggregated.</summary>
public sealed record ThroughputPoint
{
    public required string Model { get; init; }
    public required string Backend { get; init; }
    public required int PromptLen { get; init; }
    public required int MaxTokens { get; init; }
    public required int Requests { get; init; }
    public required double ColocatedRps { get; init; }
    public required double DisaggRps { get; init; }
}
