using System.Diagnostics;
using PdRdma.Engines.Generation;

namespace PdRdma.Engines.Split;

/// <summary>
/// Prefill and decode engines with separate pools in one process, the KV handed over by copying each layer's
/// extents from one region to the other as soon as the layer is done: the split without a network or a transfer agent,
/// what <c>pdrdma generate --split-in-process</c>, engine-check and engine-bench use to isolate the hand-over's cost
/// (<c>generate --split</c> and serving move the KV through the transfer machinery, <see cref="Serving.LocalSplit"/>).
/// </summary>
public sealed class InProcessSplit(PrefillEngine prefill, DecodeEngine decode)
{
    /// <summary>Time spent copying KV in the last <see cref="Generate"/> call.</summary>
    public TimeSpan LastTransferTime { get; private set; }

    /// <summary>Bytes of KV copied in the last <see cref="Generate"/> call.</summary>
    public long LastTransferBytes { get; private set; }

    /// <summary>Time from the start of the request to the first token being known on the decode side.</summary>
    public TimeSpan LastTimeToFirstToken { get; private set; }

    public GenerationResult Generate(string requestId, GenerationRequest request, Action<int>? onToken = null)
    {
        var clock = Stopwatch.StartNew();
        var lease = decode.Reserve(requestId, request.PromptTokens.Count);
        var copyTime = TimeSpan.Zero;
        long bytes = 0;
        PrefillResult result;
        try
        {
            result = prefill.Prefill(request.PromptTokens, request.Sampling, (layer, blocks) =>
            {
                var start = Stopwatch.GetTimestamp();
                var copies = KvHandoff.LayerCopies(prefill.Pool.Layout, blocks, decode.Pool.Layout, lease.BlockIds, layer);
                decode.Pool.CopyExtentsFrom(prefill.Pool, copies.Select(c => (c.SourceOffset, c.TargetOffset, c.Length)));
                bytes += copies.Sum(c => c.Length);
                copyTime += Stopwatch.GetElapsedTime(start);
            });
        }
        catch
        {
            decode.Release(lease);
            throw;
        }
        prefill.Release(result);
        LastTimeToFirstToken = clock.Elapsed;
        LastTransferTime = copyTime;
        LastTransferBytes = bytes;
        return decode.Resume(lease, result, request.MaxNewTokens, request.Sampling, onToken);
    }
}
