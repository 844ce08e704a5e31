using PdRdma.Perf.E2e;
using PdRdma.Perf.Transfer;

namespace PdRdma.Perf;

/// <summary>A whole <c>pdrdma bench</c> run: which parts, how big, where the report goes.</summary>
public sealed record BenchOptions
{
    public TransferBenchOptions? Transfer { get; init; }
    public E2eOptions? E2e { get; init; }

    /// <summary>The whole run's time budget; end-to-end points that would start after it are skipped and noted.</summary>
    public TimeSpan? Budget { get; init; }

    /// <summary>Where BENCHMARKS.md goes (plots and JSON in its bench/ subfolder); null: no report files.</summary>
    public string? DocsDirectory { get; init; }

    /// <summary>The full run: every size 64 B–256 MiB, batches, KV-shaped, registration, e2e on both models.</summary>
    public static BenchOptions Full(string? docs) => new()
    {
        Transfer = new TransferBenchOptions
        {
            Plan = new TransferPlan
            {
                Sizes = TransferPlan.SizesUpTo(256L << 20),
                BatchWriteBytes = 16 << 10,
                BatchOps = [1, 4, 16, 64, 256],
                KvBlockBytes = [4 << 10, 16 << 10, 64 << 10],
                KvTotalBytes = 64L << 20,
                Budget = TimeSpan.FromMilliseconds(400),
            },
            RegistrationMaxBytes = 1L << 30,
        },
        E2e = new E2eOptions(),
        DocsDirectory = docs,
        Budget = TimeSpan.FromMinutes(14),
    };

    /// <summary>A smoke run of the same parts with fewer sizes and prompts (about a minute).</summary>
    public static BenchOptions Quick(string? docs) => new()
    {
        Transfer = new TransferBenchOptions
        {
            Plan = new TransferPlan
            {
                Sizes = [64, 64 << 10, 16 << 20],
                BatchWriteBytes = 16 << 10,
                BatchOps = [1, 64],
                KvBlockBytes = [16 << 10],
                KvTotalBytes = 16L << 20,
                Budget = TimeSpan.FromMilliseconds(200),
            },
            BaselineDuration = TimeSpan.FromSeconds(0.5),
            RegistrationMaxBytes = 64L << 20,
        },
        E2e = new E2eOptions { PromptLengths = [128, 512], WithoutOverlapToo = false, ThroughputRequests = 2, MaxTokens = 8 },
        DocsDirectory = docs,
    };
}
