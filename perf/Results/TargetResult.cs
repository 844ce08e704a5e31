namespace PdRdma.Perf.Results;

/// <summary>One of the targets the project holds itself to, with the ratio measured and what bounds a miss.</summary>
public sealed record TargetResult
{
    public required string Name { get; init; }

    /// <summary>Written as the rule, e.g. "shm ≥ 0.8 × memcpy".</summary>
    public required string Goal { get; init; }

    public required bool HigherIsBetter { get; init; }
    public required double Threshold { get; init; }

    /// <summary>Null when it could not be measured on this machine (see <see cref="Note"/>).</summary>
    public double? Measured { get; init; }

    /// <summary>Where the ratio was taken (size, prompt length).</summary>
    public string? At { get; init; }

    public bool? Met => Measured is { } m ? (HigherIsBetter ? m >= Threshold : m <= Threshold) : null;

    /// <summary>Why it was missed or not measured, in words.</summary>
    public string? Note { get; init; }
}
