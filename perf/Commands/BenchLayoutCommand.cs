using System.CommandLine;
using PdRdma.Hosting.CommandLine;
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
    private const string Begin = "<!-- layout-translation: written by ./pdrdma bench-layout -->";
    private const string End = "<!-- /layout-translation -->";

    private static readonly Option<string> Backends = CliOptions.Text("--backends", "backends to measure", "shm,tcp", "shm,tcp");
    private static readonly Option<int> Reps = CliOptions.Int("--reps", "repetitions (the best counts)", 5, 1, 100);
    private static readonly Option<string> Docs = CliOptions.Text("--docs", "write DIR/bench/layout-translation.{md,json} and that section of DIR/BENCHMARKS.md", helpName: "DIR");

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("layout", "KV layout translation cost: identical layouts vs each difference, same run") { Backends, Reps, Docs };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var backends = parse.GetValue(Backends)!.Split(',').Select(b => b.Trim() switch
        {
            "shm" => BackendChoice.Shm,
            "tcp" => BackendChoice.Tcp,
            _ => throw new UsageException($"--backends: '{b}' is not shm or tcp"),
        }).ToList();
        var reps = parse.GetValue(Reps);
        var docs = parse.GetValue(Docs);

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
