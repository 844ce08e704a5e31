using PdRdma.Transport;
using System.Globalization;
using System.Net;

namespace PdRdma.Cli.Commands;

/// <summary>`--name value` and `--flag` options of the transfer commands; unknown options are an error.</summary>
public sealed class TransferCliArgs
{
    /// <summary>Runs a transfer command: a transfer failure exits 1, bad usage 2, each with one line on stderr.</summary>
    public static async Task<int> RunReportingErrorsAsync(string[] args, Func<string[], Task<int>> command)
    {
        try
        {
            return await command(args);
        }
        catch (Exception ex) when (ex is TransferException or ArgumentException or FormatException)
        {
            Console.Error.WriteLine($"pdrdma {(ex is TransferException ? "transfer" : "usage")}: {ex.Message}");
            return ex is TransferException ? 1 : 2;
        }
    }

    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public TransferCliArgs(string[] args, params string[] flags)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{name}'");
            if (flags.Contains(name)) _values[name] = null;
            else if (i + 1 < args.Length) _values[name] = args[++i];
            else throw new ArgumentException($"{name} needs a value");
        }
    }

    public string? String(string name) { _read.Add(name); return _values.GetValueOrDefault(name); }

    public string String(string name, string fallback) => String(name) ?? fallback;

    public bool Flag(string name) { _read.Add(name); return _values.ContainsKey(name); }

    public long Long(string name, long fallback) => String(name) is { } s ? long.Parse(s, CultureInfo.InvariantCulture) : fallback;

    public IPEndPoint EndPoint(string name) =>
        IPEndPoint.Parse(String(name) ?? throw new ArgumentException($"{name} IP:PORT is required"));

    public byte[]? Secret() => String("--secret-file") is { } path ? File.ReadAllBytes(path) : null;

    /// <summary>Throws for options nobody asked for (typos must not pass silently).</summary>
    public void EnsureAllRead()
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"unknown option(s): {string.Join(", ", unknown)}");
    }
}
