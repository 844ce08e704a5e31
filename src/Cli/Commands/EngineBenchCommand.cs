using System.CommandLine;
using PdRdma.Cli.Options;
using PdRdma.Hosting.CommandLine;
using System.Diagnostics;
using System.Globalization;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Model;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Serving;
using PdRdma.Engines.Serving.Models;
using PdRdma.Engines.Split;
using TorchSharp;
using PdRdma.Hosting.Processes;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma engine-bench --model M [--prompt-len 256] [--decode-steps 32] [--threads 1] [--dtype f32|bf16]</c>:
/// prefill tokens/s, decode tokens/s at batch 1 and 8, the KV hand-over share of time-to-first-token in the
/// in-process split, and peak RSS. Speed is measured here, never in tests.
/// </summary>
public static class EngineBenchCommand
{
    private static readonly Option<string> Model = CliOptions.Text("--model", "model spec", "tiny-random");
    private static readonly Option<int> PromptLen = CliOptions.Int("--prompt-len", "prompt tokens", 256, 2, 1 << 20);
    private static readonly Option<int> DecodeSteps = CliOptions.Int("--decode-steps", "decode steps", 32, 1, 1 << 16);
    private static readonly Option<int> Threads = CliOptions.Int("--threads", "libtorch intra-op threads", 1, 1, 1024);
    private static readonly Option<int> Repeats = CliOptions.Int("--repeats", "timed repetitions (the best counts)", 3, 1, 100);
    private static readonly Option<PdRdma.Transport.KvDType?> DType = DTypeOption.Create();

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("engine-bench", "engine numbers: prefill and decode tokens/s, KV hand-over share of TTFT, peak RSS")
        {
            Model, PromptLen, DecodeSteps, Threads, Repeats, DType,
        };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(Model)!, parse.GetValue(PromptLen), parse.GetValue(DecodeSteps), parse.GetValue(Threads),
            parse.GetValue(Repeats), parse.GetValue(DType)));
        return command;
    }

    private static string Rss() => Status("VmRSS");

    private static string Status(string field) =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?";

    private static async Task<int> RunAsync(string model, int promptLen, int decodeSteps, int threads, int repeats, PdRdma.Transport.KvDType? dtype)
    {
        PdRdma.Engines.TorchThreads.Configure(threads);
        using var m = ModelSource.Load(model, new ModelLoadOptions { DType = dtype });
        var config = m.Config;
        int tpb = 16;
        int perSeq = BlockTable.BlocksFor(promptLen + decodeSteps + 1, tpb);
        var layout = config.KvLayout(tpb, perSeq * 33 + 2);
        using var pool = KvPool.Create(layout, "bench-kv");
        var engine = new LlamaEngine(m, pool);
        var rng = new XorShiftRng(7);
        int[] Prompt() => [m.Tokenizer.BosId, .. Enumerable.Range(0, promptLen - 1).Select(_ => 3 + (int)(rng.NextUInt32() % (uint)(config.VocabSize - 3)))];

        Console.WriteLine($"(RSS after load {Rss()})");
        Console.WriteLine($"model {m.Name}: {config.Layers} layers, dim {config.Dim}, heads {config.Heads}/{config.KvHeads}, hidden {config.HiddenDim}, vocab {config.VocabSize}, {config.DType}; torch threads {torch.get_num_threads()}; pool {layout.TotalBytes / 1048576.0:F1} MiB");

        // Prefill: one prompt of promptLen tokens, best of `repeats` after a warm-up.
        var best = double.MaxValue;
        for (int r = 0; r <= repeats; r++)
        {
            var table = new BlockTable(tpb);
            var prompt = Prompt();
            var sw = Stopwatch.StartNew();
            engine.Prefill(table, prompt, new Sampler(SamplingOptions.Greedy), null);
            if (r > 0) best = Math.Min(best, sw.Elapsed.TotalSeconds);
            table.Release(pool.Allocator);
        }
        Console.WriteLine($"prefill {promptLen} tokens: {best * 1000:F1} ms, {promptLen / best:F0} tokens/s (RSS now {Rss()})");

        foreach (var batch in new[] { 1, 8, 32 })
        {
            var tables = Enumerable.Range(0, batch).Select(_ => new BlockTable(tpb)).ToList();
            var last = new int[batch];
            foreach (var t in tables) last[tables.IndexOf(t)] = engine.Prefill(t, Prompt(), new Sampler(SamplingOptions.Greedy), null);
            var sw = new Stopwatch();
            var cpu = TimeSpan.Zero;
            for (int step = 0; step <= decodeSteps; step++)
            {
                int pos = promptLen + step;
                foreach (var t in tables) t.EnsureCapacity(pos + 1, pool.Allocator);
                if (step == 1)
                {
                    sw.Start();   // the first step warms up
                    cpu = Process.GetCurrentProcess().TotalProcessorTime;
                }
                using var logits = m.Model.Forward(tables.Select((t, i) => new ForwardItem([last[i]], pos, t)).ToList(), pool);
                var all = logits.data<float>().ToArray();
                for (int i = 0; i < batch; i++) last[i] = Sampler.ArgMax(all.AsSpan(i * config.VocabSize, config.VocabSize));
            }
            sw.Stop();
            // CPU time too: on a shared machine the wall clock counts the time other processes held the cores.
            double cpuPerStep = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / decodeSteps;
            double perStep = sw.Elapsed.TotalSeconds / decodeSteps;
            Console.WriteLine($"decode batch {batch} at context {promptLen}: {perStep * 1000:F2} ms/step, {batch / perStep:F0} tokens/s; CPU {cpuPerStep * 1000:F2} ms/step, {batch / cpuPerStep:F0} tokens per CPU second (RSS now {Rss()})");
            foreach (var t in tables) t.Release(pool.Allocator);
        }

        // Prompts arriving together: through the batcher, prefilled one after the other vs together in one forward pass.
        foreach (var together in new[] { 1, 8 })
        {
            await using var batcher = new ContinuousBatcher(engine, maxBatch: 8, maxPrefillBatch: together);
            await batcher.GenerateAsync(new GenerationRequest(Prompt(), 1, SamplingOptions.Greedy)); // warm-up
            double ttftSum = 0;
            var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            for (int r = 0; r < repeats; r++)
            {
                var clock = Stopwatch.StartNew();
                var firsts = new double[8];
                await Task.WhenAll(Enumerable.Range(0, 8).Select(i => batcher.GenerateAsync(new GenerationRequest(Prompt(), 1, SamplingOptions.Greedy),
                    _ => firsts[i] = clock.Elapsed.TotalMilliseconds)));
                ttftSum += firsts.Average();
            }
            var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalMilliseconds / repeats;
            Console.WriteLine($"8 prompts of {promptLen} arriving together, prefilled {(together == 1 ? "one after the other" : "in one forward pass")}: mean TTFT {ttftSum / repeats:F1} ms, CPU {cpuMs:F1} ms per 8 prompts");
        }

        using var prefillPool = KvPool.Create(layout, "bench-prefill");
        using var decodePool = KvPool.Create(layout, "bench-decode");
        var split = new InProcessSplit(new PrefillEngine(new LlamaEngine(m, prefillPool)), new DecodeEngine(new LlamaEngine(m, decodePool), TimeSpan.FromMinutes(1)));
        double ttft = 0, transfer = 0;
        long bytes = 0;
        for (int r = 0; r <= repeats; r++)
        {
            split.Generate($"bench-{r}", new GenerationRequest(Prompt(), 1, SamplingOptions.Greedy));
            if (r == 0) continue;
            ttft += split.LastTimeToFirstToken.TotalMilliseconds;
            transfer += split.LastTransferTime.TotalMilliseconds;
            bytes = split.LastTransferBytes;
        }
        Console.WriteLine($"split (in-process copy) prompt {promptLen}: TTFT {ttft / repeats:F1} ms, KV {bytes / 1024.0:F0} KiB copied in {transfer / repeats:F2} ms = {100 * transfer / ttft:F1}% of TTFT");
        foreach (var backend in new[] { "shm", "tcp" })
        {
            // The serving KV path: two engines, each with a node's transfer agent, the KV pushed layer by layer.
            using var prefillModel = new LlamaServingModel(m, m.Name, ownsModel: false, tpb, layout.Blocks);
            using var decodeModel = new LlamaServingModel(m, m.Name, ownsModel: false, tpb, layout.Blocks);
            await using var pair = await LocalSplit.StartAsync(prefillModel, decodeModel, backend, null, CancellationToken.None);
            double wTtft = 0, exposed = 0;
            long wBytes = 0;
            string used = backend;
            for (int r = 0; r <= repeats; r++)
            {
                var clock = Stopwatch.StartNew();
                double first = 0;
                PdRdma.Engines.Serving.Api.PrefillAnswer? pushed = null;
                await foreach (var step in pair.GenerateAsync(Prompt(), GenerationSettings.Greedy(1), p => pushed = p))
                {
                    if (!step.IsEnd && first == 0) first = clock.Elapsed.TotalMilliseconds;
                }
                if (r == 0) continue;
                wTtft += first;
                exposed += pushed!.ExposedMs;
                wBytes = pushed.KvBytes;
                used = pushed.Backend;
            }
            Console.WriteLine($"split (serving KV path, two transfer agents) over {used} prompt {promptLen}: TTFT {wTtft / repeats:F1} ms (colocated prefill {best * 1000:F1} ms), KV {wBytes / 1024.0:F0} KiB, transfer not hidden by compute {exposed / repeats:F2} ms = {100 * exposed / wTtft:F1}% of TTFT");
        }
        Console.WriteLine($"peak RSS {Status("VmHWM")}");
        return 0;
    }
}
