using System.Text;

namespace PdRdma.Perf.Reporting;

/// <summary>A table of text cells rendered for a terminal (aligned columns) or as Markdown.</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public IReadOnlyList<string> Headers { get; } = headers;

    public int RowCount => _rows.Count;

    public TextTable Add(params string[] cells)
    {
        if (cells.Length != Headers.Count) throw new ArgumentException($"row has {cells.Length} cells, table has {Headers.Count} columns");
        _rows.Add(cells);
        return this;
    }

    public string ToTerminal()
    {
        var widths = Headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        AppendAligned(text, Headers, widths);
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in _rows) AppendAligned(text, row, widths);
        return text.ToString();
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append("| ").Append(string.Join(" | ", Headers.Select(Escape))).AppendLine(" |");
        text.Append('|').Append(string.Concat(Headers.Select(_ => " --- |"))).AppendLine();
        foreach (var row in _rows) text.Append("| ").Append(string.Join(" | ", row.Select(Escape))).AppendLine(" |");
        return text.ToString();
    }

    private static void AppendAligned(StringBuilder text, IReadOnlyList<string> cells, int[] widths)
    {
        for (var i = 0; i < cells.Count; i++)
        {
            if (i > 0) text.Append("  ");
            // numbers right-aligned, words left-aligned: easier to compare by eye
            text.Append(LooksNumeric(cells[i]) ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
        }
        text.AppendLine();
    }

    private static bool LooksNumeric(string cell) => cell.Length > 0 && (char.IsAsciiDigit(cell[0]) || cell[0] is '-' or '.') && cell.Any(char.IsAsciiDigit);

    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);
}
