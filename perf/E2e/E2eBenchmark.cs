using PdRdma.Perf.Reporting;
using PdRdma.Perf.Results;

namespace PdRdma.Perf.E2e;

/// <summary>
/// The end-to-end part: for each model and prompt length, colocated once, then disaggregated per backend with and
/// without layer-by-layer overlap; then a short throughput run. Prompts longer than a model takes are skipped and noted.
/// </summary>
public sealed class E2eBenchmark(E2eOptions options, ProgressBar? progress)
{
    public async Task RunAsync(BenchRun run, IReadOnlyList<IE2eHarness> harnesses, Action<E2ePoint>? onPoint, CancellationToken ct)
    {
        foreach (var harness in harnesses)
        {
            try
            {
                await RunModelAsync(run, harness, onPoint, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // one model's failure must not cost the others' numbers, nor the report
                run.Notes.Add($"e2e {harness.ModelName}: stopped by an error: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    private async Task RunModelAsync(BenchRun run, IE2eHarness harness, Action<E2ePoint>? onPoint, CancellationToken ct)
    {
        {
            run.E2eSetup.AddRange(harness.Describe().Select(d => $"{harness.ModelName}: {d}"));
            var lengths = options.PromptLengths.Where(p => p + options.MaxTokens <= harness.MaxSequenceLength).ToArray();
            var tooLong = options.PromptLengths.Except(lengths).ToArray();
            if (tooLong.Length > 0)
            {
                run.Notes.Add($"{harness.ModelName}: prompts of {string.Join(", ", tooLong)} tokens skipped (the model takes {harness.MaxSequenceLength} positions)");
            }
            if (lengths.Length > 0)
            {
                // one discarded request per configuration: starts the engine processes and connections, and pays the
                // first-call costs (native code, allocations) outside the numbers
                progress?.Begin($"e2e {harness.ModelName}: starting engine processes");
                await harness.ColocatedAsync(lengths[0], options.MaxTokens, ct);
                foreach (var backend in options.Backends)
                {
                    await harness.DisaggregatedAsync(lengths[0], options.MaxTokens, backend, true, ct);
                    var (colocatedTokens, splitTokens) = await harness.BothWaysAsync(lengths[0], options.MaxTokens, backend, true, ct);
                    if (!colocatedTokens.SequenceEqual(splitTokens))
                        run.Notes.Add($"e2e {harness.ModelName} over {backend}: the disaggregated output differs from colocated ({string.Join(',', splitTokens)} vs {string.Join(',', colocatedTokens)})");
                }
            }
            foreach (var promptLen in lengths)
            {
                if (options.Deadline is { } deadline && DateTimeOffset.UtcNow > deadline)
                {
                    run.Notes.Add($"e2e {harness.ModelName}: prompt {promptLen} and later skipped to keep the run within its time budget");
                    break;
                }
                progress?.Begin($"e2e {harness.ModelName} prompt {promptLen}: colocated");
                var colocated = await Repeated(() => harness.ColocatedAsync(promptLen, options.MaxTokens, ct),
                    all => new ColocatedSample(Median(all, s => s.TtftMs), Median(all, s => s.TpotMs), all[0].Tokens));
                progress?.Advance(Weight(harness, promptLen));
                foreach (var backend in options.Backends)
                {
                    foreach (var overlap in options.WithoutOverlapToo ? new[] { true, false } : [true])
                    {
                        progress?.Begin($"e2e {harness.ModelName} prompt {promptLen}: disaggregated {backend}{(overlap ? " overlap" : "")}");
                        var disagg = await Repeated(() => harness.DisaggregatedAsync(promptLen, options.MaxTokens, backend, overlap, ct),
                            all => all[0] with
                            {
                                TtftMs = Median(all, s => s.TtftMs), TpotMs = Median(all, s => s.TpotMs), PrefillComputeMs = Median(all, s => s.PrefillComputeMs),
                                ExposedTransferMs = Median(all, s => s.ExposedTransferMs), TransferMs = Median(all, s => s.TransferMs),
                            });
                        var point = new E2ePoint
                        {
                            PromptLen = promptLen, Model = harness.ModelName, Backend = disagg.Backend, Overlap = overlap,
                            TtftMsColocated = Math.Round(colocated.TtftMs, 3), TtftMsDisagg = Math.Round(disagg.TtftMs, 3),
                            TpotMsColocated = Math.Round(colocated.TpotMs, 3), TpotMsDisagg = Math.Round(disagg.TpotMs, 3),
                            TransferShare = disagg.TtftMs > 0 ? Math.Round(disagg.ExposedTransferMs / disagg.TtftMs, 4) : 0,
                            TransferMs = Math.Round(disagg.TransferMs, 3), KvBytes = disagg.KvBytes,
                        };
                        run.E2e.Add(point);
                        onPoint?.Invoke(point);
                        progress?.Advance(Weight(harness, promptLen));
                    }
                }
            }
            if (options.ThroughputRequests > 0 && lengths.Length > 0 && !(options.Deadline is { } late && DateTimeOffset.UtcNow > late))
            {
                var promptLen = lengths.Contains(512) ? 512 : lengths[0];
                var backend = options.Backends[0];
                progress?.Begin($"e2e {harness.ModelName}: throughput, {options.ThroughputRequests} requests of {promptLen} tokens");
                var (coloc, disagg) = await harness.ThroughputAsync(promptLen, options.MaxTokens, options.ThroughputRequests, backend, ct);
                run.Throughput.Add(new ThroughputPoint
                {
                    Model = harness.ModelName, Backend = backend, PromptLen = promptLen, MaxTokens = options.MaxTokens,
                    Requests = options.ThroughputRequests, ColocatedRps = Math.Round(coloc, 3), DisaggRps = Math.Round(disagg, 3),
                });
                progress?.Advance(Weight(harness, promptLen) * options.ThroughputRequests * 2);
            }
        }
    }

    /// <summary>
    /// Runs a measurement once; when that took under <see cref="CheapRun"/>, twice more, and returns the medians: cheap
    /// points are noisy on a shared machine, dear ones are not worth repeating in a run that must stay short.
    /// </summary>
    private static async Task<T> Repeated<T>(Func<Task<T>> measure, Func<IReadOnlyList<T>, T> combine)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var samples = new List<T> { await measure() };
        if (clock.Elapsed < CheapRun)
        {
            samples.Add(await measure());
            samples.Add(await measure());
        }
        if (Trace) foreach (var sample in samples) Console.Error.WriteLine($"\n  sample: {sample}");
        return combine(samples);
    }

    private static readonly TimeSpan CheapRun = TimeSpan.FromSeconds(5);

    /// <summary>PDRDMA_BENCH_TRACE=1 prints every sample behind a median to stderr.</summary>
    private static bool Trace => Environment.GetEnvironmentVariable("PDRDMA_BENCH_TRACE") == "1";

    private static double Median<T>(IReadOnlyList<T> samples, Func<T, double> value)
    {
        var sorted = samples.Select(value).Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    /// <summary>Relative cost of one request, for the progress bar: grows with the prompt and the KV.</summary>
    public static double Weight(IE2eHarness harness, int promptLen) => 0.2 + promptLen * harness.KvBytesPerToken / 2e7;
}
