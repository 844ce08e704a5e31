using System.Diagnostics;
using PdRdma.Daemon.Protocol;
using PdRdma.Engines.Serving.Api;

namespace PdRdma.Engines.Serving;

/// <summary>
/// The prefill role's one job: compute a prompt's KV into this engine's pool and push it, layer by layer, through the
/// KV channel (the node daemon or the transfer library in process) into the blocks a decode engine granted, then tell
/// the target the request's KV is complete. `pdrdma serve --role prefill`, <see cref="LocalSplit"/> (generate --split,
/// engine-check, bench e2e) all push through here. Thread-safe; prefills of concurrent calls are batched by the model.
/// </summary>
public sealed class PrefillPush(IServingModel model, KvChannel channel)
{
    /// <summary>Test hook: pause after each layer, so that faults can be injected mid-transfer.</summary>
    public int LayerDelayMs { get; init; }

    /// <summary>
    /// Prefills <paramref name="call"/>'s tokens and writes their KV into its target. With <paramref name="overlap"/> each
    /// layer's write is posted as soon as the layer is computed (it overlaps the next layer's compute); without it, all
    /// writes go after the last layer (for measuring what the overlap saves). The prefill blocks are freed only after
    /// every write finished or failed. Throws TransferException when a write fails or the target refuses.
    /// </summary>
    public async Task<PrefillAnswer> RunAsync(PrefillCall call, bool overlap, CancellationToken ct)
    {
        model.Layout.EnsureCompatibleWith(call.Target.Layout);
        var writes = new List<Task<Written>>();
        var clock = Stopwatch.StartNew();
        var transferStart = TimeSpan.Zero;
        PrefillOutcome? outcome = null;
        try
        {
            var sampling = call.Temperature <= 0 ? Sampling.SamplingOptions.Greedy : new Sampling.SamplingOptions(call.Temperature, call.TopP, call.Seed);
            var deferred = new List<(int Layer, int[] Blocks)>();
            outcome = await model.PrefillAsync(call.Tokens, sampling, async (layer, blocks) =>
            {
                if (layer == 0)
                {
                    transferStart = clock.Elapsed;
                    if (call.Target.Blocks.Length < blocks.Count)
                        throw new ArgumentException($"the decode instance granted {call.Target.Blocks.Length} blocks; the prompt needs {blocks.Count}");
                }
                if (overlap)
                {
                    // Not awaited: the push of this layer overlaps the next layer's compute.
                    lock (writes) writes.Add(channel.WriteAsync(call.RequestId, call.Target, [layer], blocks.ToArray(), ct));
                }
                else
                {
                    lock (deferred) deferred.Add((layer, blocks.ToArray()));
                }
                if (LayerDelayMs > 0) await Task.Delay(LayerDelayMs, ct).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
            var computed = clock.Elapsed;
            if (!overlap)
            {
                transferStart = computed;
                lock (writes) foreach (var (layer, blocks) in deferred) writes.Add(channel.WriteAsync(call.RequestId, call.Target, [layer], blocks, ct));
            }
            Task<Written>[] pending;
            lock (writes) pending = [.. writes];
            var written = await Task.WhenAll(pending).ConfigureAwait(false);
            var bytes = written.Sum(w => w.Bytes);
            await channel.FinishAsync(call.RequestId, call.Target, bytes, ct).ConfigureAwait(false);
            var done = clock.Elapsed;
            var backend = written.FirstOrDefault()?.Backend ?? "none";
            return new PrefillAnswer(outcome.FirstToken, bytes, (done - transferStart).TotalMilliseconds, computed.TotalMilliseconds, backend, channel.NodeId, outcome.RngState,
                (done - computed).TotalMilliseconds);
        }
        finally
        {
            // Every write has finished or failed before the blocks are reused.
            Task[] pending;
            lock (writes) pending = [.. writes];
            await Task.WhenAll(pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (outcome is not null) model.ReleasePrefill(outcome);
        }
    }
}
