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
            run.E2eSetup.AddRange(harness.Describe().Select(d => $"{harness.ModelName}: {d}"));
            var lengths = options.PromptLengths.Where(p => p + options.MaxTokens <= harness.MaxSequenceLength).ToArray();
            var tooLong = options.PromptLengths.Except(lengths).ToArray();
            if (tooLong.Length > 0)
            {
                run.Notes.Add($"{harness.ModelName}: prompts of {string.Join(", ", tooLong)} tokens skipped (the model takes {harness.MaxSequenceLength} positions)");
            }
            foreach (var promptLen in lengths)
            {
                progress?.Begin($"e2e {harness.ModelName} prompt {promptLen}: colocated");
                var colocated = await harness.ColocatedAsync(promptLen, options.MaxTokens, ct);
                progress?.Advance(Weight(harness, promptLen));
                foreach (var backend in options.Backends)
                {
                    foreach (var overlap in options.WithoutOverlapToo ? new[] { true, false } : [true])
                    {
                        progress?.Begin($"e2e {harness.ModelName} prompt {promptLen}: disaggregated {backend}{(overlap ? " overlap" : "")}");
                        var disagg = await harness.DisaggregatedAsync(promptLen, options.MaxTokens, backend, overlap, ct);
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
            if (options.ThroughputRequests > 0 && lengths.Length > 0)
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

    /// <summary>Relative cost of one request, for the progress bar: grows with the prompt and the KV.</summary>
    public static double Weight(IE2eHarness harness, int promptLen) => 0.2 + promptLen * harness.KvBytesPerToken / 2e7;
}
