using System.CommandLine;
using PdRdma.Hosting.CommandLine;
using PdRdma.Hosting.Processes;
using PdRdma.Perf.E2e;
using PdRdma.Perf.Reporting;
using PdRdma.Perf.Transfer;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench [transfer|e2e|serve|layout] [options]</c> (the program pdrdma-bench): the benchmarks. Without a part:
/// everything, with the report written to docs/BENCHMARKS.md. Progress goes to stderr; tables, or JSON with --json,
/// to stdout. The internal peers of the transfer benchmark (target, initiator) are hidden parts of the same program.
/// </summary>
public static class BenchCommand
{
    private static readonly Option<bool> Json = CliOptions.Flag("--json", "JSON on stdout instead of tables");
    private static readonly Option<bool> Quick = CliOptions.Flag("--quick", "a ~1 min smoke run");
    private static readonly Option<bool> NoReport = CliOptions.Flag("--no-report", "do not write docs/BENCHMARKS.md");
    private static readonly Option<bool> Report = CliOptions.Flag("--report", "also write docs/BENCHMARKS.md and docs/bench/");
    private static readonly Option<string> Docs = CliOptions.Text("--docs", "the docs folder the report goes to (default: the checkout's docs/)", helpName: "DIR");
    private static readonly Option<bool> Loopback = CliOptions.Flag("--loopback", "loopback only, no network namespaces");
    private static readonly Option<BenchBackend?> Backend = new("--backend")
    {
        Description = "only this backend (default: all)", HelpName = "shm|tcp|verbs",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Enum.TryParse<BenchBackend>(text, ignoreCase: true, out var b) && !text.Any(char.IsDigit)) return b;
            r.AddError($"--backend: '{text}' is not one of shm, tcp, verbs");
            return null;
        },
    };
    private static readonly Option<long?> Size = new("--size") { Description = "one message size in bytes", HelpName = "BYTES" };
    private static readonly Option<long[]> Sizes = CliOptions.ByteList("--sizes", "message sizes", (a, b) => TransferPlan.SizesUpTo(b, a));
    private static readonly Option<int?> BudgetMs = new("--budget-ms") { Description = "milliseconds per measured point", HelpName = "MS" };
    private static readonly Option<int?> PromptLen = new("--prompt-len") { Description = "one prompt length (default: the sweep)", HelpName = "N" };
    private static readonly Option<string> Model = CliOptions.Text("--model", "largest, random, or a model spec (default: both)");
    private static readonly Option<int?> MaxTokens = new("--max-tokens") { Description = "tokens generated per request", HelpName = "N" };
    private static readonly Option<BenchPattern?> Pattern = new("--pattern")
    {
        Description = "one pattern of issue 10 against its own baseline: kv (blocks vs one extent), latency (vs qperf), rate (writes/s)", HelpName = "kv|latency|rate",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Enum.TryParse<BenchPattern>(text, ignoreCase: true, out var p) && !text.Any(char.IsDigit)) return p;
            r.AddError($"--pattern: '{text}' is not one of kv, latency, rate");
            return null;
        },
    };
    private static readonly Option<long?> BlockSize = new("--block-size") { Description = "kv pattern: one block size in bytes (default 4 KiB, 16 KiB, 64 KiB)", HelpName = "BYTES" };
    private static readonly Option<bool> NoDataMac = CliOptions.Flag("--no-data-mac", "patterns: do not authenticate tcp payloads (frames still are)");
    private static readonly Option<bool> CompareDataMac = CliOptions.Flag("--compare-data-mac", "patterns: run twice in one invocation, tcp payload MAC on then off");
    private static readonly Option<bool> BothOverlap = CliOptions.Flag("--both-overlap", "also measure without overlapping the KV push with prefill");

    /// <summary>The program's commands.</summary>
    public static RootCommand CreateRoot()
    {
        foreach (var option in new Option[] { Size, BudgetMs, PromptLen, MaxTokens, BlockSize }) option.Validators.Add(Positive);
        var root = new RootCommand("pdrdma bench: transfer bandwidth/latency vs baselines, end to end colocated vs disaggregated, serving; writes docs/BENCHMARKS.md")
        {
            Quick, Json, NoReport, Docs, Loopback,
        };
        root.SetAction((parse, ct) => Cancellable(ct2 => AllAsync(parse, ct2)));
        var transfer = new Command("transfer", "transfer bandwidth and latency per backend against iperf3/memcpy measured in the same run") { Backend, Size, Sizes, BudgetMs, Json, Loopback, Report, Docs, Pattern, BlockSize, NoDataMac, CompareDataMac };
        transfer.SetAction((parse, _) => Cancellable(ct => TransferAsync(parse, ct)));
        var e2e = new Command("e2e", "end to end: colocated vs disaggregated TTFT/TPOT on the same model and prompts") { PromptLen, Backend, Model, MaxTokens, BothOverlap, Json, Report, Docs };
        e2e.SetAction((parse, _) => Cancellable(ct => E2eAsync(parse, ct)));
        root.Subcommands.Add(transfer);
        root.Subcommands.Add(e2e);
        root.Subcommands.Add(BenchServeCommand.Create());
        root.Subcommands.Add(BenchLoadCommand.Create());
        root.Subcommands.Add(BenchLayoutCommand.Create());
        root.Subcommands.Add(BenchTargetCommand.Create());
        root.Subcommands.Add(BenchInitiatorCommand.Create());
        root.Subcommands.Add(BenchPingPongCommand.Create());
        return root;
    }

    private static void Positive(System.CommandLine.Parsing.OptionResult r)
    {
        var value = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
        if (long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0) return;
        r.AddError($"{r.Option.Name}: '{value}' is not a positive number");
    }

    private static async Task<int> Cancellable(Func<CancellationToken, Task<int>> run)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return await run(cts.Token);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Console.Error.WriteLine("pdrdma bench: cancelled");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static async Task<int> AllAsync(ParseResult args, CancellationToken ct)
    {
        var docs = args.GetValue(NoReport) ? null : args.GetValue(Docs) ?? DefaultDocs();
        var options = args.GetValue(Quick) ? BenchOptions.Quick(docs) : BenchOptions.Full(docs);
        if (args.GetValue(Loopback)) options = options with { Transfer = options.Transfer! with { LoopbackOnly = true } };
        var run = await BenchRunner.RunAsync(options, null, null, ct);
        if (args.GetValue(Json)) Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(run, BenchJson.Options));
        else Console.Write(BenchRunner.Summary(run));
        if (docs is not null) Console.Error.WriteLine($"pdrdma bench: wrote {Path.Combine(docs, "BENCHMARKS.md")} and {Path.Combine(docs, "bench")}/");
        return 0;
    }

    private static async Task<int> TransferAsync(ParseResult args, CancellationToken ct)
    {
        if (args.GetValue(Pattern) is { } pattern) return await PatternAsync(args, pattern, ct);
        var full = BenchOptions.Full(null).Transfer!;
        var listed = args.GetValue(Sizes)!;
        var onlySizes = args.GetValue(Size) is not null || listed.Length > 0;
        IReadOnlyList<long> sizes = args.GetValue(Size) is { } size ? [size] : listed.Length > 0 ? listed : full.Plan.Sizes;
        var plan = full.Plan with
        {
            Sizes = sizes,
            BatchOps = onlySizes ? [] : full.Plan.BatchOps,
            KvBlockBytes = onlySizes ? [] : full.Plan.KvBlockBytes,
            Budget = args.GetValue(BudgetMs) is { } ms ? TimeSpan.FromMilliseconds(ms) : full.Plan.Budget,
        };
        var backends = args.GetValue(Backend) is { } b ? new[] { Name(b) } : full.Backends;
        var transfer = full with
        {
            Plan = plan, Backends = backends, LoopbackOnly = args.GetValue(Loopback),
            // one path per backend when a single size is asked for: the one the machine makes the most of
            TcpBothPaths = !onlySizes, RegistrationMaxBytes = onlySizes ? 0 : full.RegistrationMaxBytes,
        };
        var docs = args.GetValue(Report) ? args.GetValue(Docs) ?? DefaultDocs() : null;
        var run = await BenchRunner.RunAsync(new BenchOptions { Transfer = transfer, DocsDirectory = docs }, null, null, ct);
        if (args.GetValue(Json))
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

    /// <summary>One pattern of issue 10 (kv, latency, rate), with its own baseline, as JSON lines.</summary>
    private static async Task<int> PatternAsync(ParseResult args, BenchPattern pattern, CancellationToken ct)
    {
        var full = BenchOptions.Full(null).Transfer!;
        var name = CliOptions.Name(pattern);
        // --compare-data-mac: the same pattern twice in one run, tcp payload MACs on then off (what authenticating
        // the data costs); control frames are authenticated in both.
        var macs = args.GetValue(CompareDataMac) ? new[] { true, false } : [!args.GetValue(NoDataMac)];
        var count = 0;
        foreach (var dataMac in macs)
        {
            // Batches name the target's grant, as the node daemon's do (its lease): backends with grant windows take them.
            var plan = new TransferPlan { Budget = TimeSpan.FromMilliseconds(args.GetValue(BudgetMs) ?? 1500), Depth = full.Plan.Depth, DataMac = dataMac, Grant = true };
            plan = pattern switch
            {
                BenchPattern.Kv => plan with { KvBlockBytes = args.GetValue(BlockSize) is { } b ? [b] : [4 << 10, 16 << 10, 64 << 10], KvTotalBytes = 64 << 20 },
                BenchPattern.Latency => plan with { Sizes = [args.GetValue(Size) ?? 64], LatencyMaxBytes = long.MaxValue },
                _ => plan with { BatchWriteBytes = args.GetValue(Size) ?? 4096, BatchOps = [1, 64] },
            };
            var backends = args.GetValue(Backend) is { } backend ? new[] { Name(backend) } : full.Backends;
            var transfer = full with
            {
                Plan = plan, Backends = backends, LoopbackOnly = args.GetValue(Loopback), TcpBothPaths = false, RegistrationMaxBytes = 0,
                BandwidthBaselines = false, QperfLatencyBytes = pattern == BenchPattern.Latency ? plan.Sizes[0] : 0,
            };
            var run = await BenchRunner.RunAsync(new BenchOptions { Transfer = transfer }, null, null, ct);
            foreach (var line in PatternLines.Render(name, run, dataMac))
            {
                Console.WriteLine(line);
                count++;
            }
            foreach (var note in run.Notes) Console.Error.WriteLine($"pdrdma bench: {note}");
        }
        return count > 0 ? 0 : 1;
    }

    private static async Task<int> E2eAsync(ParseResult args, CancellationToken ct)
    {
        var defaults = new E2eOptions();
        var e2e = defaults with
        {
            PromptLengths = args.GetValue(PromptLen) is { } n ? [n] : defaults.PromptLengths,
            Backends = args.GetValue(Backend) is { } b ? [Name(b)] : defaults.Backends,
            Models = args.GetValue(Model) is { } m ? [m] : defaults.Models,
            MaxTokens = args.GetValue(MaxTokens) ?? defaults.MaxTokens,
            WithoutOverlapToo = args.GetValue(BothOverlap),
            ThroughputRequests = 0,
        };
        var docs = args.GetValue(Report) ? args.GetValue(Docs) ?? DefaultDocs() : null;
        var run = await BenchRunner.RunAsync(new BenchOptions { E2e = e2e, DocsDirectory = docs }, null, null, ct);
        if (args.GetValue(Json))
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

    private static string Name(BenchBackend backend) => CliOptions.Name(backend);

    private static string DefaultDocs() => Path.Combine(RepoRoot.Find() ?? Environment.CurrentDirectory, "docs");
}
