using System.Globalization;
using System.Text.Json;
using PdRdma.Perf;
using PdRdma.Perf.Layout;
using PdRdma.Transport;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench-layout</c>: KV-shaped transfer with and without layout translation, same run; prints the table
/// and, with --docs DIR, writes DIR/bench/layout-translation.{md,json} and that section of DIR/BENCHMARKS.md.
/// </summary>
public static class BenchLayoutCommand
{
    public const string Help = "KV layout translation cost: identical layouts vs each difference, same run (--backends shm,tcp, --reps N, --docs DIR)";

    private const string Begin = "<!-- layout-translation: written by ./pdrdma bench-layout -->";
    private const string End = "<!-- /layout-translation -->";

    public static async Task<int> RunAsync(string[] args)
    {
        var cli = new BenchArgs(args, ["--backends", "--reps", "--docs"], []);
        var backends = cli.String("--backends", "shm,tcp").Split(',').Select(b => b.Trim() switch
        {
            "shm" => BackendChoice.Shm,
            "tcp" => BackendChoice.Tcp,
            _ => throw new ArgumentException($"--backends: '{b}' is not shm or tcp"),
        }).ToList();
        var reps = checked((int)cli.Long("--reps", 5));
        var docs = cli.String("--docs");
        if (reps is < 1 or > 100) throw new ArgumentException("--reps must be in [1, 100]");

        var points = await LayoutTranslationBenchmark.RunAsync(backends, reps, Console.Error, CancellationToken.None);
        var when = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var markdown = LayoutTranslationBenchmark.Markdown(points, when);
        Console.WriteLine(markdown);
        if (docs is not null)
        {
            var bench = Path.Combine(docs, "bench");
            Directory.CreateDirectory(bench);
            await File.WriteAllTextAsync(Path.Combine(bench, "layout-translation.md"), markdown);
            await File.WriteAllTextAsync(Path.Combine(bench, "layout-translation.json"), JsonSerializer.Serialize(points, new JsonSerializerOptions { WriteIndented = true }));
            var report = Path.Combine(docs, "BENCHMARKS.md");
            var text = File.Exists(report) ? await File.ReadAllTextAsync(report) : "";
            await File.WriteAllTextAsync(report, Splice(text, markdown));
        }
        return 0;
    }

    /// <summary>Replaces the marked section of BENCHMARKS.md (or appends it), leaving the rest as `./pdrdma bench` wrote it.</summary>
    public static string Splice(string report, string section)
    {
        var block = $"{Begin}\n{section.TrimEnd()}\n{End}\n";
        int start = report.IndexOf(Begin, StringComparison.Ordinal), end = report.IndexOf(End, StringComparison.Ordinal);
        if (start >= 0 && end > start) return report[..start] + block + report[(end + End.Length)..].TrimStart('\n');
        return report.TrimEnd() + "\n\n" + block;
    }
}
