using System.Diagnostics;
using System.Globalization;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Model;
using PdRdma.Engines.Sampling;
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
    public const string Help = "engine numbers: --model M [--prompt-len 256] [--decode-steps 32] [--threads 1]";

    private static string Rss() => Status("VmRSS");

    private static string Status(string field) =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?";

    public static async Task<int> RunAsync(string[] args)
    {
        string model = "tiny-random";
        int promptLen = 256, decodeSteps = 32, threads = 1, repeats = 3;
        PdRdma.Transport.KvDType? dtype = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => args[++i];
            switch (args[i])
            {
                case "--model": model = Next(); break;
                case "--prompt-len": promptLen = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--decode-steps": decodeSteps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--repeats": repeats = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--dtype": dtype = Next() == "bf16" ? PdRdma.Transport.KvDType.BFloat16 : PdRdma.Transport.KvDType.Float32; break;
                default: Console.Error.WriteLine($"engine-bench: unknown option '{args[i]}'\n{Help}"); return 2;
            }
        }
        PdRdma.Engines.TorchThreads.Configure(threads);
        using var m = ModelSource.Load(model, new ModelLoadOptions { DType = dtype });
        var config = m.Config;
        int tpb = 16;
        int perSeq = BlockTable.BlocksFor(promptLen + decodeSteps + 1, tpb);
        var layout = config.KvLayout(tpb, perSeq * 9 + 2);
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

        foreach (var batch in new[] { 1, 8 })
        {
            var tables = Enumerable.Range(0, batch).Select(_ => new BlockTable(tpb)).ToList();
            var last = new int[batch];
            foreach (var t in tables) last[tables.IndexOf(t)] = engine.Prefill(t, Prompt(), new Sampler(SamplingOptions.Greedy), null);
            var sw = new Stopwatch();
            for (int step = 0; step <= decodeSteps; step++)
            {
                int pos = promptLen + step;
                foreach (var t in tables) t.EnsureCapacity(pos + 1, pool.Allocator);
                if (step == 1) sw.Start();   // the first step warms up
                using var logits = m.Model.Forward(tables.Select((t, i) => new ForwardItem([last[i]], pos, t)).ToList(), pool);
                var all = logits.data<float>().ToArray();
                for (int i = 0; i < batch; i++) last[i] = Sampler.ArgMax(all.AsSpan(i * config.VocabSize, config.VocabSize));
            }
            sw.Stop();
            double perStep = sw.Elapsed.TotalSeconds / decodeSteps;
            Console.WriteLine($"decode batch {batch} at context {promptLen}: {perStep * 1000:F2} ms/step, {batch / perStep:F0} tokens/s (RSS now {Rss()})");
            foreach (var t in tables) t.Release(pool.Allocator);
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
        foreach (var backend in new[] { PdRdma.Transport.BackendChoice.Shm, PdRdma.Transport.BackendChoice.Tcp })
        {
            var workerArgs = new List<string> { "--model", model, "--block-tokens", tpb.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture) };
            if (dtype is not null) workerArgs.AddRange(["--dtype", dtype == PdRdma.Transport.KvDType.BFloat16 ? "bf16" : "f32"]);
            await using var worker = await DecodeWorkerClient.StartAsync(PdrdmaProgram.Cli.WorkerPath(), workerArgs,
                new PrefillEngine(new LlamaEngine(m, prefillPool)), backend, TimeSpan.FromMinutes(5));
            double wTtft = 0, exposed = 0;
            long wBytes = 0;
            for (int r = 0; r <= repeats; r++)
            {
                await worker.GenerateAsync($"bench-{backend}-{r}", new GenerationRequest(Prompt(), 1, SamplingOptions.Greedy));
                if (r == 0) continue;
                wTtft += worker.LastTimeToFirstToken.TotalMilliseconds;
                exposed += worker.LastExposedTransferTime.TotalMilliseconds;
                wBytes = worker.LastTransferBytes;
            }
            Console.WriteLine($"split two processes over {worker.Backend} prompt {promptLen}: TTFT {wTtft / repeats:F1} ms (colocated prefill {best * 1000:F1} ms), KV {wBytes / 1024.0:F0} KiB, transfer not hidden by compute {exposed / repeats:F2} ms = {100 * exposed / wTtft:F1}% of TTFT");
        }
        Console.WriteLine($"peak RSS {Status("VmHWM")}");
        return 0;
    }
}
