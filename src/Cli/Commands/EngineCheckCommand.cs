using System.CommandLine;
using PdRdma.Cli.Options;
using PdRdma.Hosting.CommandLine;
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
using PdRdma.Engines.Serving;
using PdRdma.Engines.Serving.Models;
using PdRdma.Engines.Split;
using PdRdma.Transport;
using PdRdma.Hosting.Processes;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma engine-check --model M [--device cpu|cuda[:N]] [--dtype f32|bf16] [--prompt-len 4096] [--decode-steps 64]
/// [--batches 1,8] [--repeats 3] [--split] [--threads 1] [--json FILE]</c>: the numbers of the GPU engine check, as JSON: time to first
/// token (prefill of one prompt, logits to the host, greedy pick), time per output token at each batch size, the greedy
/// tokens of prompt 0, and with <c>--split</c> the same request split between a prefill and a decode engine (on the CPU the
/// serving KV path, <see cref="LocalSplit"/>: the KV pushed through two transfer agents; on a GPU a device-to-device copy of
/// the same extents between two pools) with its tokens compared. The prompts are
/// <see cref="PromptToken"/>, the same formula scripts/gpu/torch_llama_ref.py uses, so both sides run the same input.
/// </summary>
public static class EngineCheckCommand
{
    private const int TokensPerBlock = 16;

    /// <summary>Token <paramref name="i"/> of benchmark prompt <paramref name="sequence"/>: BOS (1) first, then a fixed pseudo-random walk over ids 3..vocab-1.</summary>
    public static int PromptToken(int sequence, int i, int vocab) => CheckPrompts.Token(sequence, i, vocab);

    /// <summary>What one check runs (the command line, parsed).</summary>
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

        /// <summary>Also run the request split into a prefill and a decode engine (the serving KV path) and compare.</summary>
        public bool Split { get; init; }

        /// <summary>Hand the split's KV over through host mirrors even for cpu pools (what cuda pools always do): the GPU's path rehearsed on the CPU.</summary>
        public bool StageKv { get; init; }

        /// <summary>Where to write the JSON besides stdout.</summary>
        public string? JsonPath { get; init; }

        /// <summary>libtorch intra-op threads (CPU runs).</summary>
        public int Threads { get; init; } = 1;
    }

    private static readonly Option<string> Model = CliOptions.Text("--model", "model spec (tiny-random[:...], a llama2.c .bin, a Hugging Face folder)", "tiny-random");
    private static readonly Option<EngineDevice> Device = DeviceOption.Create("where the model and its pools run");
    private static readonly Option<KvDType?> DType = DTypeOption.Create();
    private static readonly Option<int> PromptLen = CliOptions.Int("--prompt-len", "tokens of every prompt", 256, 1, 1 << 20);
    private static readonly Option<int> DecodeSteps = CliOptions.Int("--decode-steps", "output tokens per sequence, the first (from prefill) included", 32, 2, 1 << 16);
    private static readonly Option<int> Repeats = CliOptions.Int("--repeats", "timed prefills after the warm-up (the best counts)", 3, 1, 100);
    private static readonly Option<int[]> Batches = CliOptions.IntList("--batches", "batch sizes whose time per output token is measured (at most 8)", [1, 8], 1, 64);
    private static readonly Option<bool> Split = CliOptions.Flag("--split", "also decode the request in a second process and compare the tokens");
    private static readonly Option<bool> StageKv = CliOptions.Flag("--stage-kv", "with --split: hand the KV over through host-staged pools, as device pools are");
    private static readonly Option<FileInfo> Json = new("--json") { Description = "also write the JSON to FILE", HelpName = "FILE" };
    private static readonly Option<int> Threads = CliOptions.Int("--threads", "libtorch intra-op threads (CPU runs)", 1, 1, 1024);

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("engine-check", "engine TTFT/TPOT as JSON (the numbers of the GPU engine check)")
        {
            Model, Device, DType, PromptLen, DecodeSteps, Repeats, Batches, Split, StageKv, Json, Threads,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var batches = parse.GetValue(Batches)!;
        if (batches.Length > 8) throw new UsageException("--batches: at most 8 sizes");
        var o = new Options
        {
            Model = parse.GetValue(Model)!, Device = parse.GetValue(Device)!, DType = parse.GetValue(DType), PromptLength = parse.GetValue(PromptLen),
            DecodeSteps = parse.GetValue(DecodeSteps), Repeats = parse.GetValue(Repeats), Batches = batches, Split = parse.GetValue(Split), StageKv = parse.GetValue(StageKv),
            JsonPath = parse.GetValue(Json)?.FullName, Threads = parse.GetValue(Threads),
        };
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

    /// <summary>The same request colocated and split (prefill and decode engines with pools of their own), tokens compared, TTFT and TPOT of each.</summary>
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

        (double Ttft, double Tpot, List<int> Tokens) split = (double.NaN, double.NaN, []);
        (double Ttft, double Tpot, List<int> Tokens)? deviceCopy = null;
        long deviceCopyBytes = 0;
        if (o.Device.IsCuda)
        {
            // Baseline for the staged path below: both pools on the GPU in this process, the KV extents copied device to device.
            using var prefillPool = KvPool.Create(layout, $"check-prefill-{Environment.ProcessId}", o.Device);
            using var decodePool = KvPool.Create(layout, $"check-decode-{Environment.ProcessId}", o.Device);
            var local = new InProcessSplit(new PrefillEngine(new LlamaEngine(m, prefillPool)), new DecodeEngine(new LlamaEngine(m, decodePool), TimeSpan.FromMinutes(5)));
            for (int r = 0; r < 2; r++) deviceCopy = Timed(on => local.Generate($"check-{r}", request, on));
            deviceCopyBytes = local.LastTransferBytes;
        }

        // The serving KV path: two engines, each with a node's transfer agent, KV pushed layer by layer; pools on the GPU
        // are handed over through pinned host mirrors (KvStaging), since the transfer backends address host memory.
        using var prefillModel = new LlamaServingModel(m, m.Name, ownsModel: false, TokensPerBlock, layout.Blocks, device: o.Device);
        using var decodeModel = new LlamaServingModel(m, m.Name, ownsModel: false, TokensPerBlock, layout.Blocks, device: o.Device);
        await using var pair = await LocalSplit.StartAsync(prefillModel, decodeModel, "auto", o.StageKv, null, CancellationToken.None);
        PdRdma.Engines.Serving.Api.PrefillAnswer? pushed = null;
        for (int r = 0; r < 2; r++)
        {
            var stamps = new List<double>();
            var tokens = new List<int>();
            var sw = Stopwatch.StartNew();
            await foreach (var step in pair.GenerateAsync(prompt, GenerationSettings.Greedy(o.DecodeSteps), p => pushed = p))
            {
                if (step.IsEnd) break;
                stamps.Add(sw.Elapsed.TotalMilliseconds);
                tokens.Add(step.Token);
            }
            split = (stamps.Count > 0 ? stamps[0] : double.NaN, Tpot(stamps), tokens);
        }
        string backend = pushed?.Backend ?? "none";
        string reason = pair.Staged
            ? "the serving KV path on the GPU: two engines, each with a node's transfer agent; each device pool handed over through a host mirror (KvStaging), KV pushed layer by layer"
            : "the serving KV path: two engines, each with a node's transfer agent, KV pushed layer by layer";
        long kvBytes = pushed?.KvBytes ?? 0;
        var result = new JsonObject
        {
            ["backend"] = backend,
            ["backend_reason"] = reason,
            ["kv_staged"] = pair.Staged,
            ["kv_bytes"] = kvBytes,
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
        if (deviceCopy is { } d)
        {
            result["device_copy"] = new JsonObject
            {
                ["reason"] = "baseline: both pools on the GPU in one process, KV extents copied device to device (no transfer library)",
                ["kv_bytes"] = deviceCopyBytes,
                ["ttft_ms"] = d.Ttft,
                ["tpot_ms"] = d.Tpot,
                ["ttft_ratio"] = d.Ttft / colocated.Ttft,
                ["tpot_ratio"] = d.Tpot / colocated.Tpot,
                ["identical"] = colocated.Tokens.SequenceEqual(d.Tokens),
            };
        }
        return result;
    }
}
