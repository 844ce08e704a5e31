using PdRdma.Perf;
using PdRdma.Perf.E2e;
using PdRdma.Perf.Reporting;
using PdRdma.Perf.Transfer;
using PdRdma.Hosting.Processes;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench [transfer|e2e] [options]</c>: the benchmarks. Without a part: everything, with the report written to
/// docs/BENCHMARKS.md. Progress goes to stderr; tables, or JSON with --json, to stdout.
/// </summary>
public static class BenchCommand
{
    private static readonly string[] ValueOptions = ["--backend", "--size", "--sizes", "--prompt-len", "--docs", "--model", "--max-tokens", "--budget-ms"];
    private static readonly string[] Flags = ["--json", "--quick", "--no-report", "--report", "--loopback", "--both-overlap"];

    public static async Task<int> RunAsync(string[] args)
    {
        // The serving benchmark has its own options (load points, length distributions, SLO).
        if (args.Length > 0 && args[0] == "serve") return await BenchServeCommand.RunAsync(args[1..]);
        BenchArgs options;
        try
        {
            options = new BenchArgs(args, ValueOptions, Flags);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"pdrdma bench: {e.Message}");
            return 2;
        }
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        var part = options.Positional.Count > 0 ? options.Positional[0] : "all";
        try
        {
            return part switch
            {
                "all" => await AllAsync(options, cts.Token),
                "transfer" => await TransferAsync(options, cts.Token),
                "e2e" => await E2eAsync(options, cts.Token),
                _ => Usage($"unknown part '{part}' (transfer, e2e, serve, or nothing for everything)"),
            };
        }
        catch (ArgumentException e)
        {
            return Usage(e.Message);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Console.Error.WriteLine("pdrdma bench: cancelled");
            return 130;
        }
    }

    private static async Task<int> AllAsync(BenchArgs args, CancellationToken ct)
    {
        var docs = args.Has("--no-report") ? null : args.String("--docs") ?? DefaultDocs();
        var options = args.Has("--quick") ? BenchOptions.Quick(docs) : BenchOptions.Full(docs);
        if (args.Has("--loopback")) options = options with { Transfer = options.Transfer! with { LoopbackOnly = true } };
        var run = await BenchRunner.RunAsync(options, null, null, ct);
        if (args.Has("--json")) Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(run, BenchJson.Options));
        else Console.Write(BenchRunner.Summary(run));
        if (docs is not null) Console.Error.WriteLine($"pdrdma bench: wrote {Path.Combine(docs, "BENCHMARKS.md")} and {Path.Combine(docs, "bench")}/");
        return 0;
    }

    private static async Task<int> TransferAsync(BenchArgs args, CancellationToken ct)
    {
        var full = BenchOptions.Full(null).Transfer!;
        var sizes = args.LongOrNull("--size") is { } size ? [size] : args.Has("--sizes") ? args.LongList("--sizes") : full.Plan.Sizes;
        var onlySizes = args.Has("--size") || args.Has("--sizes");
        var plan = full.Plan with
        {
            Sizes = sizes,
            BatchOps = onlySizes ? [] : full.Plan.BatchOps,
            KvBlockBytes = onlySizes ? [] : full.Plan.KvBlockBytes,
            Budget = TimeSpan.FromMilliseconds(args.Long("--budget-ms", (long)full.Plan.Budget.TotalMilliseconds)),
        };
        var backends = args.String("--backend") is { } b ? new[] { Backend(b) } : full.Backends;
        var transfer = full with
        {
            Plan = plan, Backends = backends, LoopbackOnly = args.Has("--loopback"),
            // one path per backend when a single size is asked for: the one the machine makes the most of
            TcpBothPaths = !onlySizes, RegistrationMaxBytes = onlySizes ? 0 : full.RegistrationMaxBytes,
        };
        var docs = args.Has("--report") ? args.String("--docs") ?? DefaultDocs() : null;
        var run = await BenchRunner.RunAsync(new BenchOptions { Transfer = transfer, DocsDirectory = docs }, null, null, ct);
        if (args.Has("--json"))
        {
            foreach (var point in run.Transfer) Console.WriteLine(BenchJson.Line(point));
        }
        else
        {
            Console.Write(BenchRunner.Summary(run));
        }
        foreach (var note in run.Notes) Console.Error.WriteLine($"pdrdma bench: {note}");
        return run.Transfer.Count > 0 || run.KvShaped.Count > 0 ? 0 : 1;
    }

    private static async Task<int> E2eAsync(BenchArgs args, CancellationToken ct)
    {
        var defaults = new E2eOptions();
        var e2e = defaults with
        {
            PromptLengths = args.LongOrNull("--prompt-len") is { } n ? [checked((int)n)] : defaults.PromptLengths,
            Backends = args.String("--backend") is { } b ? [Backend(b)] : defaults.Backends,
            Models = args.String("--model") is { } m ? [m] : defaults.Models,
            MaxTokens = (int)args.Long("--max-tokens", defaults.MaxTokens),
            WithoutOverlapToo = args.Has("--both-overlap"),
            ThroughputRequests = 0,
        };
        var docs = args.Has("--report") ? args.String("--docs") ?? DefaultDocs() : null;
        var run = await BenchRunner.RunAsync(new BenchOptions { E2e = e2e, DocsDirectory = docs }, null, null, ct);
        if (args.Has("--json"))
        {
            foreach (var point in run.E2e) Console.WriteLine(BenchJson.Line(point));
        }
        else
        {
            Console.Write(BenchRunner.Summary(run));
        }
        foreach (var note in run.Notes) Console.Error.WriteLine($"pdrdma bench: {note}");
        return run.E2e.Count > 0 ? 0 : 1;
    }

    private static string Backend(string name) => name is "shm" or "tcp" or "verbs"
        ? name
        : throw new ArgumentException($"unknown backend '{name}' (shm, tcp, verbs)");

    private static string DefaultDocs() => Path.Combine(RepoRoot.Find() ?? Environment.CurrentDirectory, "docs");

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"pdrdma bench: {problem}");
        Console.Error.WriteLine("usage: pdrdma bench [--quick] [--json] [--no-report] [--loopback]");
        Console.Error.WriteLine("       pdrdma bench transfer [--backend shm|tcp|verbs] [--size BYTES | --sizes A,B|MIN:MAX] [--json] [--loopback]");
        Console.Error.WriteLine("       pdrdma bench e2e [--prompt-len N] [--backend shm|tcp] [--model largest|random] [--both-overlap] [--json]");
        return 2;
    }
}
