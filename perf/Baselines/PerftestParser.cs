using System.Globalization;

namespace PdRdma.Perf.Baselines;

/// <summary>
/// Reads the result table of perftest's ib_write_bw (run with <c>--report_gbits</c>) and ib_write_lat: the header
/// line names the columns (<c>#bytes #iterations BW peak[Gb/sec] BW average[Gb/sec] ...</c> or
/// <c>... t_typical[usec] ... 99% percentile[usec]</c>); every following numeric line is one size.
/// </summary>
public static class PerftestParser
{
    public static IReadOnlyList<PerftestResult> Parse(string output)
    {
        var results = new List<PerftestResult>();
        string[]? columns = null;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("#bytes", StringComparison.Ordinal))
            {
                // names with a unit may hold single spaces ("BW peak[Gb/sec]", "99% percentile[usec]"); the others are one word
                columns = System.Text.RegularExpressions.Regex.Matches(line, @"#\w+|[\w%.]+(?: [\w%.]+)*\[[^\]]+\]|\S+").Select(m => m.Value).ToArray();
                continue;
            }
            if (columns is null || line.Length == 0 || !char.IsAsciiDigit(line[0])) continue;
            var cells = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length < 2 || !long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes)) continue;
            double? Cell(Func<string, bool> match)
            {
                var index = Array.FindIndex(columns, c => match(c));
                return index >= 0 && index < cells.Length && double.TryParse(cells[index], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
            }
            var average = Cell(c => c.StartsWith("BW average", StringComparison.Ordinal));
            var unitIsMb = columns.Any(c => c.StartsWith("BW average[MB/sec]", StringComparison.Ordinal));
            results.Add(new PerftestResult(
                bytes,
                int.TryParse(cells[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var it) ? it : 0,
                average is { } a && unitIsMb ? a * 8 * 1e6 / 1e9 : average,
                Cell(c => c.StartsWith("t_typical", StringComparison.Ordinal)),
                Cell(c => c.StartsWith("99%", StringComparison.Ordinal))));
        }
        return results;
    }
}
