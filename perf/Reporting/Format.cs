using System.Globalization;

namespace PdRdma.Perf.Reporting;

/// <summary>Human-readable numbers for tables.</summary>
public static class Format
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };

    public static string Num(double value, int decimals = 2) => double.IsFinite(value) ? value.ToString("F" + decimals, Inv) : "-";

    public static string Num(double? value, int decimals = 2) => value is { } v ? Num(v, decimals) : "-";

    /// <summary>Three significant digits, for values that span orders of magnitude.</summary>
    public static string Sig(double value) => !double.IsFinite(value) ? "-" : value switch
    {
        >= 100 => value.ToString("F0", Inv),
        >= 10 => value.ToString("F1", Inv),
        >= 1 => value.ToString("F2", Inv),
        _ => value.ToString("G3", Inv),
    };

    public static string Sig(double? value) => value is { } v ? Sig(v) : "-";
}
