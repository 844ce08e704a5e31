using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PdRdma.Engines;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Model;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;
using PdRdma.Hosting.Processes;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma engine-check --model M [--device cpu|cuda[:N]] [--dtype f32|bf16] [--prompt-len 4096] [--decode-steps 64]
/// [--batches 1,8] [--repeats 3] [--split] [--threads 1] [--json FILE]</c>: the numbers of the GPU engine check, as JSON: time to first
/// token (prefill of one prompt, logits to the host, greedy pick), time per output token at each batch size, the greedy
/// tokens of prompt 0, and with <c>--split</c> the same request decoded in a second process (the KV handed over through
/// CUDA IPC on one GPU, through the transfer agent on the CPU) with its tokens compared. The prompts are
/// <see cref="PromptToken"/>, the same formula scripts/gpu/torch_llama_ref.py uses, so both sides run the same input.
/// </summary>
public static class EngineCheckCommand
{
    public const string Help = "engine TTFT/TPOT as JSON for the GPU check: --model M [--device cpu|cuda[:N]] [--dtype f32|bf16] [--prompt-len N] [--decode-steps N] [--batches 1,8] [--split] [--json FILE]";

    private const int TokensPerBlock = 16;

    /// <summary>Token <paramref name="i"/> of benchmark prompt <paramref name="sequence"/>: BOS (1) first, then a fixed pseudo-random walk over ids 3..vocab-1.</summary>
    public static int PromptToken(int sequence, int i, int vocab) => CheckPrompts.Token(sequence, i, vocab);

    /// <summary>Parsed options; <see cref="Parse"/> rejects anything out of range with ArgumentException.</summary>
    public sealed record Options
    {
        /// <summary>Model spec (tiny-random[:...], a llama2.c .bin, a Hugging Face folder).</summary>
        public string Model { get; init; } = "tiny-random";

        /// <summary>Where the model and its pools run.</summary>
        public EngineDevice Device { get; init; } = EngineDevice.Cpu;

        /// <summary>Weights/KV dtype; null keeps the model's own.</summary>
        public KvDType? DType { get; init; }

        /// <summary>Tokens of every prompt (<see cref="PromptToken"/>).</summary>
        public int PromptLength { get; init; } = 256;

        /// <summary>Output tokens per sequence, the first (from prefill) included.</summary>
        public int DecodeSteps { get; init; } = 32;

        /// <summary>Batch sizes whose time per output token is measured; the first one's tokens are reported.</summary>
        public IReadOnlyList<int> Batches { get; init; } = [1, 8];

        /// <summary>Timed prefills after the warm-up; the best counts.</summary>
        public int Repeats { get; init; } = 3;

        /// <summary>Also run the request split into a decode worker process and compare.</summary>
        public bool Split { get; init; }

        /// <summary>Where to write the JSON besides stdout.</summary>
        public string? JsonPath { get; init; }

        /// <summary>libtorch intra-op threads (CPU runs).</summary>
        public int Threads { get; init; } = 1;
    }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int(string name, int min, int max)
            {
                var text = Next();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
                    ? v : throw new ArgumentException($"{name} '{text}' is not an integer in [{min}, {max}]");
            }
            o = args[i] switch
            {
                "--model" => o with { Model = Next() },
                "--device" => o with { Device = EngineDevice.Parse(Next()) },
                "--dtype" => o with { DType = Next() switch { "f32" or "float32" => KvDType.Float32, "bf16" or "bfloat16" => KvDType.BFloat16, var d => throw new ArgumentException($"--dtype '{d}': use f32 or bf16") } },
                "--prompt-len" => o with { PromptLength = Int("--prompt-len", 1, 1 << 20) },
                "--decode-steps" => o with { DecodeSteps = Int("--decode-steps", 2, 1 << 16) },
                "--repeats" => o with { Repeats = Int("--repeats", 1, 100) },
                "--batches" => o with { Batches = ParseBatches(Next()) },
                "--split" => o with { Split = true },
                "--json" => o with { JsonPath = Next() },
                "--threads" => o with { Threads = Int("--threads", 1, 1024) },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }
        return o;
    }

    private static int[] ParseBatches(string text)
    {
        var parts = text.Split(',');
        if (parts.Length > 8) throw new ArgumentException($"--batches '{text}': at most 8 sizes");
        return parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b is >= 1 and <= 64
            ? b : throw new ArgumentException($"--batches '{text}': each size is an integer in [1, 64]")).ToArray();
    }

    public static async Task<int> RunAsync(string[] args)
    {
        Options o;
        try
        {
            o = Parse(args);
        }
        catch (Exception e) when (e is ArgumentException or TransferException)
        {
            Console.Error.WriteLine($"engine-check: {e.Message}\n{Help}");
            return 2;
        }
        try
        {
            var result = await RunAsync(o);
            var text = result.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            if (o.JsonPath is not null) await File.WriteAllTextAsync(o.JsonPath, text + "\n");
            Console.WriteLine(text);
            return 0;
        }
        catch (Exception e) when (e is ModelLoadException or TransferException or ArgumentException or IOException)
        {
            Console.Error.WriteLine($"engine-check: {e.Message}");
            return 1;
        }
    }

    /// <summary>Runs the check and returns its JSON (snake_case keys, times in milliseconds).</summary>
    public static async Task<JsonObject> RunAsync(Options o)
    {
        TorchThreads.Configure(o.Threads);
        using var m = ModelSource.Load(o.Model, new ModelLoadOptions { Device = o.Device, DType = o.DType });
        var config = m.Config;
        if (o.PromptLength + o.DecodeSteps + 1 > config.MaxSeqLen)
        {
            throw new ArgumentException($"--prompt-len {o.PromptLength} + --decode-steps {o.DecodeSteps} exceed the model's context of {config.MaxSeqLen}");
        }
        int vocab = config.VocabSize;
        int[] Prompt(int sequence) => Enumerable.Range(0, o.PromptLength).Select(i => PromptToken(sequence, i, vocab)).ToArray();
        int perSeq = BlockTable.BlocksFor(o.PromptLength + o.DecodeSteps + 1, TokensPerBlock);
        int maxBatch = o.Batches.Max();
        var layout = config.KvLayout(TokensPerBlock, perSeq * (maxBatch + 1) + 1);
        using var pool = KvPool.Create(layout, $"check-kv-{Environment.ProcessId}", o.Device);
        var engine = new LlamaEngine(m, pool);

        // TTFT: prefill of prompt 0, logits on the host, greedy pick; the first run warms up (kernels, handles).
        var ttft = double.MaxValue;
        for (int r = 0; r <= o.Repeats; r++)
        {
            var table = new BlockTable(TokensPerBlock);
            var sw = Stopwatch.StartNew();
            engine.Prefill(table, Prompt(0), new Sampler(SamplingOptions.Greedy), null);
            if (r > 0) ttft = Math.Min(ttft, sw.Elapsed.TotalMilliseconds);
            table.Release(pool.Allocator);
        }

        var tpot = new JsonObject();
        int[] tokens0 = [];
        foreach (var batch in o.Batches)
        {
            var (perStep, tokens) = DecodeLoop(m, pool, engine, batch, o.DecodeSteps, Prompt);
            tpot[batch.ToString(CultureInfo.InvariantCulture)] = perStep;
            if (tokens0.Length == 0) tokens0 = tokens;
        }
        var result = new JsonObject
        {
            ["engine"] = "pdrdma",
            ["device"] = o.Device.ToString(),
            ["libtorch"] = TorchRuntime.HostLibTorchDir ?? (TorchRuntime.PackagedLibTorch ? "TorchSharp-cpu package" : "default search path"),
            ["model"] = m.Name,
            ["config"] = new JsonObject { ["dim"] = config.Dim, ["hidden"] = config.HiddenDim, ["layers"] = config.Layers, ["heads"] = config.Heads, ["kv_heads"] = config.KvHeads, ["vocab"] = config.VocabSize, ["dtype"] = config.DType.ToString() },
            ["prompt_len"] = o.PromptLength,
            ["decode_steps"] = o.DecodeSteps,
            ["ttft_ms"] = ttft,
            ["prefill_tokens_per_s"] = o.PromptLength / (ttft / 1000),
            ["tpot_ms"] = tpot,
            ["tokens"] = new JsonArray(tokens0.Select(t => (JsonNode)t).ToArray()),
        };
        if (o.Split) result["split"] = await SplitAsync(o, m, pool, engine, Prompt(0), layout);
        return result;
    }

    /// <summary>Greedy decode of <paramref name="batch"/> prompts together; mean ms per step after one warm-up step, and the tokens of prompt 0.</summary>
    private static (double PerStepMs, int[] Tokens) DecodeLoop(LoadedModel m, KvPool pool, LlamaEngine engine, int batch, int steps, Func<int, int[]> prompt)
    {
        int vocab = m.Config.VocabSize;
        var tables = Enumerable.Range(0, batch).Select(_ => new BlockTable(TokensPerBlock)).ToList();
        try
        {
            var last = new int[batch];
            for (int i = 0; i < batch; i++) last[i] = engine.Prefill(tables[i], prompt(i), new Sampler(SamplingOptions.Greedy), null);
            var tokens = new List<int> { last[0] };
            int start = prompt(0).Length;
            var sw = new Stopwatch();
            for (int step = 0; step < steps - 1; step++)
            {
                int pos = start + step;
                foreach (var t in tables) t.EnsureCapacity(pos + 1, pool.Allocator);
                if (step == 1) sw.Start();
                using var logits = m.Model.Forward(tables.Select((t, i) => new ForwardItem([last[i]], pos, t)).ToList(), pool);
                var all = logits.data<float>().ToArray();
                for (int i = 0; i < batch; i++) last[i] = Sampler.ArgMax(all.AsSpan(i * vocab, vocab));
                tokens.Add(last[0]);
            }
            sw.Stop();
            return (sw.Elapsed.TotalMilliseconds / Math.Max(1, steps - 2), tokens.ToArray());
        }
        finally
        {
            foreach (var t in tables) t.Release(pool.Allocator);
        }
    }

    /// <summary>Mean time between output tokens as the caller sees them (first to last).</summary>
    private static double Tpot(List<double> stamps) => stamps.Count > 1 ? (stamps[^1] - stamps[0]) / (stamps.Count - 1) : double.NaN;

    /// <summary>The same request colocated (this process) and split (decode in a worker process), tokens compared, TTFT and TPOT of each.</summary>
    private static async Task<JsonObject> SplitAsync(Options o, LoadedModel m, KvPool pool, LlamaEngine engine, int[] prompt, KvLayout layout)
    {
        var request = new GenerationRequest(prompt, o.DecodeSteps, SamplingOptions.Greedy);
        (double Ttft, double Tpot, List<int> Tokens) Timed(Func<Action<int>, GenerationResult> run)
        {
            var stamps = new List<double>();
            var sw = Stopwatch.StartNew();
            var r = run(_ => stamps.Add(sw.Elapsed.TotalMilliseconds));
            double tpot = Tpot(stamps);
            return (stamps.Count > 0 ? stamps[0] : double.NaN, tpot, r.Generated.ToList());
        }
        var colocated = Timed(on => engine.Generate(request, on));
        colocated = Timed(on => engine.Generate(request, on));

        var workerArgs = new List<string> { "--model", o.Model, "--block-tokens", TokensPerBlock.ToString(CultureInfo.InvariantCulture),
            "--blocks", layout.Blocks.ToString(CultureInfo.InvariantCulture), "--device", o.Device.ToString() };
        if (o.DType is { } dt) workerArgs.AddRange(["--dtype", dt == KvDType.BFloat16 ? "bf16" : "f32"]);
        using var prefillPool = KvPool.Create(layout, $"check-prefill-{Environment.ProcessId}", o.Device);
        await using var worker = await DecodeWorkerClient.StartAsync(PdrdmaProgram.Cli.WorkerPath(), workerArgs, new PrefillEngine(new LlamaEngine(m, prefillPool)),
            BackendChoice.Auto, TimeSpan.FromMinutes(5));
        (double Ttft, double Tpot, List<int> Tokens) split = (double.NaN, double.NaN, []);
        for (int r = 0; r < 2; r++)
        {
            var stamps = new List<double>();
            var sw = Stopwatch.StartNew();
            var res = await worker.GenerateAsync($"check-{r}", request, _ => stamps.Add(sw.Elapsed.TotalMilliseconds));
            split = (stamps.Count > 0 ? stamps[0] : double.NaN, Tpot(stamps), res.Generated.ToList());
        }
        return new JsonObject
        {
            ["backend"] = worker.Backend,
            ["backend_reason"] = worker.BackendReason,
            ["kv_bytes"] = worker.LastTransferBytes,
            ["colocated_ttft_ms"] = colocated.Ttft,
            ["colocated_tpot_ms"] = colocated.Tpot,
            ["split_ttft_ms"] = split.Ttft,
            ["split_tpot_ms"] = split.Tpot,
            ["ttft_ratio"] = split.Ttft / colocated.Ttft,
            ["tpot_ratio"] = split.Tpot / colocated.Tpot,
            ["colocated_tokens"] = new JsonArray(colocated.Tokens.Select(t => (JsonNode)t).ToArray()),
            ["split_tokens"] = new JsonArray(split.Tokens.Select(t => (JsonNode)t).ToArray()),
            ["identical"] = colocated.Tokens.SequenceEqual(split.Tokens),
        };
    }
}
