using System.Diagnostics;

namespace PdRdma.Perf.Reporting;

/// <summary>
/// A progress bar on stderr, so stdout stays clean for tables and JSON. Steps carry weights (expected seconds).
/// When stderr is not a terminal it prints one line per step instead of redrawing. Not thread-safe: one runner drives it.
/// </summary>
public sealed class ProgressBar(TextWriter writer, bool redraw, double totalWeight)
{
    private const int Width = 30;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _done;
    private int _lastLength;

    public static ProgressBar ForStderr(double totalWeight) => new(Console.Error, !Console.IsErrorRedirected, totalWeight);

    public double TotalWeight { get; private set; } = Math.Max(totalWeight, 1e-9);

    /// <summary>Announces the step now running.</summary>
    public void Begin(string step)
    {
        if (redraw) Draw(step);
        else writer.WriteLine($"[{Percent(),3}%] {step}");
    }

    /// <summary>Marks <paramref name="weight"/> of the total done.</summary>
    public void Advance(double weight, string? step = null)
    {
        _done = Math.Min(TotalWeight, _done + weight);
        if (redraw) Draw(step ?? string.Empty);
    }

    public void Finish(string message)
    {
        _done = TotalWeight;
        if (redraw)
        {
            Draw(message);
            writer.WriteLine();
        }
        else writer.WriteLine($"[100%] {message}");
    }

    private int Percent() => (int)Math.Round(100 * _done / TotalWeight);

    private void Draw(string step)
    {
        var filled = (int)Math.Round(Width * _done / TotalWeight);
        var line = $"[{new string('#', filled)}{new string('.', Width - filled)}] {Percent(),3}% {_clock.Elapsed:mm\\:ss} {step}";
        if (line.Length > 110) line = line[..110];
        writer.Write('\r' + line.PadRight(_lastLength));
        _lastLength = line.Length;
        writer.Flush();
    }
}
