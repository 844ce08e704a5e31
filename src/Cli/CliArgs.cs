namespace PdRdma.Cli;

/// <summary>Parses `--name value` options and `--flag` switches; unknown names are reported, not ignored.</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CliArgs(string[] args, params string[] flags)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{arg}'");
            var equals = arg.IndexOf('=');
            if (equals > 0) _values[arg[..equals]] = arg[(equals + 1)..];
            else if (flags.Contains(arg)) _values[arg] = null;
            else if (i + 1 < args.Length) _values[arg] = args[++i];
            else throw new ArgumentException($"option {arg} needs a value");
        }
    }

    public string? Get(string name)
    {
        _used.Add(name);
        return _values.GetValueOrDefault(name);
    }

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public int GetInt(string name, int fallback)
    {
        var text = Get(name);
        if (text is null) return fallback;
        return int.TryParse(text, out var value) ? value : throw new ArgumentException($"option {name} expects an integer, got '{text}'");
    }

    public bool Has(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    /// <summary>Throws naming any option that no Get/Has asked for.</summary>
    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unknown option(s): {string.Join(", ", unknown)}");
    }
}
