using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace PdRdma.Hosting.CommandLine;

/// <summary>
/// Typed options as every command of the project declares them: a description, the default shown in --help, and
/// the bounds checked at parse time (a value out of them is a usage error naming the option).
/// </summary>
public static class CliOptions
{
    /// <summary>An integer option within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min = 0, int max = int.MaxValue) => new(name)
    {
        Description = description, DefaultValueFactory = _ => defaultValue,
        CustomParser = r => (int)Number(r, name, min, max),
    };

    /// <summary>An integer argument within [<paramref name="min"/>, <paramref name="max"/>], optional when <paramref name="defaultValue"/> is given.</summary>
    public static Argument<long> IntArgument(string name, string description, long min, long max, long? defaultValue = null)
    {
        var argument = new Argument<long>(name) { Description = description, CustomParser = r => Number(r, name, min, max) };
        if (defaultValue is { } value)
        {
            argument.Arity = ArgumentArity.ZeroOrOne;
            argument.DefaultValueFactory = _ => value;
        }
        return argument;
    }

    /// <summary>A floating-point option within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<double> Double(string name, string description, double defaultValue, double min = 0, double max = double.MaxValue) => new(name)
    {
        Description = description, DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= min && value <= max) return value;
            r.AddError($"{name}: '{text}' is not a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");
            return 0;
        },
    };

    /// <summary>An optional number of seconds in [0, <paramref name="max"/>] (absent: null).</summary>
    public static Option<double?> Seconds(string name, string description, double max = 86400) => new(name)
    {
        Description = description, HelpName = "S",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= 0 && value <= max) return value;
            r.AddError($"{name}: '{text}' is not a number of seconds in [0, {max.ToString(CultureInfo.InvariantCulture)}]");
            return null;
        },
    };

    /// <summary>A byte count: an integer, or with a K/M/G suffix (powers of 1024).</summary>
    public static Option<long> Bytes(string name, string description, long defaultValue)
    {
        var option = new Option<long>(name)
        {
            Description = description, HelpName = "BYTES", DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseBytes(r, name, r.Tokens.Count > 0 ? r.Tokens[0].Value : ""),
        };
        return option;
    }

    /// <summary>
    /// A comma-separated list of byte counts (each as <see cref="Bytes"/>); <c>A:B</c> expands through
    /// <paramref name="range"/> (e.g. powers of four from A to B). Absent: an empty list.
    /// </summary>
    public static Option<long[]> ByteList(string name, string description, Func<long, long, IEnumerable<long>> range) => new(name)
    {
        Description = description, HelpName = "A,B|MIN:MAX", DefaultValueFactory = _ => [],
        CustomParser = r =>
        {
            var values = new List<long>();
            foreach (var part in (r.Tokens.Count > 0 ? r.Tokens[0].Value : "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var colon = part.IndexOf(':');
                if (colon > 0)
                {
                    long min = ParseBytes(r, name, part[..colon]), max = ParseBytes(r, name, part[(colon + 1)..]);
                    if (min < 1 || max < min || max > 1L << 40) r.AddError($"{name}: '{part}' is not MIN:MAX with 1 <= MIN <= MAX <= 1T");
                    else values.AddRange(range(min, max));
                }
                else
                {
                    values.Add(ParseBytes(r, name, part));
                }
            }
            return [.. values];
        },
    };

    /// <summary>A text option (null when absent, or <paramref name="defaultValue"/>).</summary>
    public static Option<string> Text(string name, string description, string? defaultValue = null, string? helpName = null)
    {
        var option = new Option<string>(name) { Description = description, HelpName = helpName };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>An IP:PORT option; when <paramref name="required"/>, leaving it out is a usage error.</summary>
    public static Option<System.Net.IPEndPoint> EndPoint(string name, string description, bool required, string? defaultValue = null)
    {
        var option = new Option<System.Net.IPEndPoint>(name)
        {
            Description = description, HelpName = "IP:PORT", Required = required,
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : defaultValue ?? "";
                if (System.Net.IPEndPoint.TryParse(text, out var endpoint) && text.Contains(':', StringComparison.Ordinal)) return endpoint;
                r.AddError($"{name}: '{text}' is not IP:PORT");
                return null;
            },
        };
        if (defaultValue is not null) option.DefaultValueFactory = _ => System.Net.IPEndPoint.Parse(defaultValue);
        return option;
    }

    /// <summary>A switch (no value).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>
    /// One of <typeparamref name="T"/>'s values, written in lower case (e.g. <c>--backend tcp</c>); --help lists them
    /// and anything else is a usage error naming the choices.
    /// </summary>
    public static Option<T> Choice<T>(string name, string description, T defaultValue) where T : struct, Enum
    {
        var names = Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray();
        return new Option<T>(name)
        {
            Description = description, HelpName = string.Join('|', names), DefaultValueFactory = _ => defaultValue,
            CustomParser = r => ParseChoice<T>(r, name, names),
        };
    }

    /// <summary>A comma-separated list of integers within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int[]> IntList(string name, string description, int[] defaultValue, int min = 0, int max = int.MaxValue) =>
        new(name)
        {
            Description = description, HelpName = "N[,N]", DefaultValueFactory = _ => defaultValue,
            CustomParser = r =>
            {
                var values = new List<int>();
                foreach (var part in (r.Tokens.Count > 0 ? r.Tokens[0].Value : "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
                    {
                        r.AddError($"{name}: '{part}' is not an integer in [{min}, {max}]");
                        return [];
                    }
                    values.Add(v);
                }
                if (values.Count == 0) r.AddError($"{name} needs at least one value");
                return [.. values];
            },
        };

    /// <summary>The lower-case name of an enum value, as the options write it.</summary>
    public static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static T ParseChoice<T>(ArgumentResult r, string name, string[] names) where T : struct, Enum
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (!text.Any(char.IsDigit) && Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value)) return value;
        r.AddError($"{name}: '{text}' is not one of {string.Join(", ", names)}");
        return default;
    }

    private static long ParseBytes(ArgumentResult r, string name, string value)
    {
        var text = value.Trim();
        long unit = 1;
        if (text.Length > 0 && char.ToUpperInvariant(text[^1]) is 'K' or 'M' or 'G')
        {
            unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            text = text[..^1];
        }
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > long.MaxValue / unit)
        {
            r.AddError($"{name}: '{value}' is not a byte count (N, or N with K, M or G)");
            return 0;
        }
        return number * unit;
    }

    private static long Number(ArgumentResult r, string name, long min, long max)
    {
        var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        r.AddError($"{name}: '{text}' is not an integer in [{min}, {max}]");
        return min;
    }
}
