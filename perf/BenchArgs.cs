using System.Globalization;

namespace PdRdma.Perf;

/// <summary>
/// The benchmark commands' options: <c>--name value</c> pairs and bare flags. Unknown names are an error naming
/// the known ones, so a typo never silently runs the default.
/// </summary>
public sealed class BenchArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public BenchArgs(IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flags)
    {
        var positional = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }
            var eq = arg.IndexOf('=');
            var name = eq > 0 ? arg[..eq] : arg;
            if (flags.Contains(name))
            {
                _values[name] = null;
            }
            else if (valueOptions.Contains(name))
            {
                var value = eq > 0 ? arg[(eq + 1)..] : i + 1 < args.Count ? args[++i] : throw new ArgumentException($"option {name} needs a value");
                _values[name] = value;
            }
            else
            {
                throw new ArgumentException($"unknown option {name} (known: {string.Join(", ", valueOptions.Concat(flags).Order())})");
            }
        }
        Positional = positional;
    }

    public IReadOnlyList<string> Positional { get; }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? String(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public string String(string name, string fallback) => String(name) ?? fallback;

    public long Long(string name, long fallback) => String(name) is { } v ? ParseSize(name, v) : fallback;

    public long? LongOrNull(string name) => String(name) is { } v ? ParseSize(name, v) : null;

    /// <summary>A comma-separated list; <c>a:b</c> expands to powers of four from a to b.</summary>
    public IReadOnlyList<long> LongList(string name)
    {
        var text = String(name);
        if (string.IsNullOrWhiteSpace(text)) return [];
        var values = new List<long>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = part.IndexOf(':');
            if (colon > 0) values.AddRange(Transfer.TransferPlan.SizesUpTo(ParseSize(name, part[(colon + 1)..]), ParseSize(name, part[..colon])));
            else values.Add(ParseSize(name, part));
        }
        return values;
    }

    /// <summary>Plain integers, or with a K/M/G suffix (powers of 1024).</summary>
    public static long ParseSize(string name, string value)
    {
        var text = value.Trim();
        long unit = 1;
        if (text.Length > 0 && char.ToUpperInvariant(text[^1]) is 'K' or 'M' or 'G')
        {
            unit = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            text = text[..^1];
        }
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) || number < 0)
        {
            throw new ArgumentException($"option {name}: '{value}' is not a non-negative number");
        }
        return checked(number * unit);
    }
}
