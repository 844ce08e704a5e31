using System.Diagnostics;
using System.Text;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;

namespace PdRdma.Cli.Demo;

/// <summary>
/// <c>pdrdma demo --prefill-layout ... --decode-layout ...</c>: prefill and decode engines whose KV layouts differ,
/// the KV translated by the initiator and moved through two transfer agents over loopback (<see cref="TransportLayoutSplit"/>),
/// and the same prompt generated colocated; temperature 0, so the outputs must be identical. Both engines run in this
/// process (the cluster demo's serving path exchanges one layout; this shows the translation on its own).
/// </summary>
public static class LayoutDemo
{
    public static async Task<DemoResult> RunAsync(string model, string prompt, int maxTokens, KvLayoutSpec prefillSpec, KvLayoutSpec decodeSpec,
        BackendChoice backend, CancellationToken cancellationToken)
    {
        using var loaded = ModelSource.Load(model);
        int blocks = 2 * BlockTable.BlocksFor(loaded.Config.MaxSeqLen, 8);
        var modelLayout = loaded.Config.KvLayout(tokensPerBlock: 16, blocks);
        string Name(string role) => $"demo-{role}-{Environment.ProcessId}";
        using var colocatedPool = KvPool.Create(modelLayout, Name("colocated"));
        using var prefillPool = KvPool.Create((prefillSpec with { TpDegree = 1 }).Apply(modelLayout), Name("prefill"));
        using var decodePool = KvPool.Create((decodeSpec with { TpDegree = 1 }).Apply(modelLayout), Name("decode"));
        var request = new GenerationRequest(loaded.Tokenizer.Encode(prompt), maxTokens, SamplingOptions.Greedy);

        var colocated = new LlamaEngine(loaded, colocatedPool);
        colocated.Generate(request with { MaxNewTokens = 2 }); // warm-up: the timed runs should not pay for first-call costs
        var colocatedClock = Stopwatch.StartNew();
        TimeSpan? colocatedFirst = null;
        var expected = colocated.Generate(request, _ => colocatedFirst ??= colocatedClock.Elapsed);
        var colocatedTotal = colocatedClock.Elapsed;

        await using var split = await TransportLayoutSplit.StartAsync(new PrefillEngine(new LlamaEngine(loaded, prefillPool)),
            new DecodeEngine(new LlamaEngine(loaded, decodePool), TimeSpan.FromMinutes(1)), prefillSpec, decodeSpec, backend, cancellationToken);
        var clock = Stopwatch.StartNew();
        var actual = await split.GenerateAsync($"layout-demo-{Environment.ProcessId}", request, cancellationToken: cancellationToken);
        var total = clock.Elapsed;

        var ttft = split.LastTimeToFirstToken.TotalMilliseconds;
        var transferMs = split.LastExposedTransferTime.TotalMilliseconds;
        var difference = (prefillSpec with { TpDegree = 1 }).Apply(modelLayout).Difference((decodeSpec with { TpDegree = 1 }).Apply(modelLayout));
        var tp = prefillSpec.TpDegree != decodeSpec.TpDegree ? $", tp {prefillSpec.TpDegree}->{decodeSpec.TpDegree}" : "";
        return new DemoResult
        {
            Text = Encoding.UTF8.GetString(TextRenderer.Render(loaded.Tokenizer, request.PromptTokens, actual.Generated, finalNewline: false)),
            ColocatedText = Encoding.UTF8.GetString(TextRenderer.Render(loaded.Tokenizer, request.PromptTokens, expected.Generated, finalNewline: false)),
            Tokens = actual.Generated.Count,
            IdenticalToColocated = actual.Generated.SequenceEqual(expected.Generated),
            TtftMs = ttft,
            TpotMs = actual.Generated.Count > 1 ? (total.TotalMilliseconds - ttft) / (actual.Generated.Count - 1) : 0,
            ColocatedTtftMs = colocatedFirst?.TotalMilliseconds ?? 0,
            ColocatedTpotMs = expected.Generated.Count > 1 ? (colocatedTotal - (colocatedFirst ?? TimeSpan.Zero)).TotalMilliseconds / (expected.Generated.Count - 1) : 0,
            KvBytes = split.LastTransferBytes,
            TransferMs = transferMs,
            TransferGbps = transferMs > 0 ? split.LastTransferBytes * 8 / (transferMs / 1000) / 1e9 : 0,
            Backend = split.Backend,
            Model = model,
            PromptChars = prompt.Length,
            Topology = $"one process, two transfer agents over loopback ({split.Backend}); translated by the initiator: {difference}{tp}; " +
                $"{split.LastWriteOps} write ops",
        };
    }
}
