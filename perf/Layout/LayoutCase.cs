namespace PdRdma.Perf.Layout;

/// <summary>One measured translation: source and target layout specs (applied to the same model shape).</summary>
public sealed record LayoutCase(string Name, string Source, string Target);
