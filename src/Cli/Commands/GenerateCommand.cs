using System.CommandLine;
using PdRdma.Cli.Options;
using PdRdma.Engines;
using PdRdma.Hosting.CommandLine;
using System.Diagnostics;
using System.Globalization;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Serving;
using PdRdma.Engines.Serving.Models;
using PdRdma.Engines.Split;
using PdRdma.Transport;
using PdRdma.Hosting.Processes;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma generate --model M --prompt P [--split [--backend auto|shm|tcp] | --split-in-process] [--temperature T] [--top-p P] [--seed S] [--steps N | --max-tokens N]
/// [--device cpu|cuda[:N]] [--dtype f32|bf16] [--tokenizer F] [--block-tokens N] [--threads 1] [--stats]</c>: one generation, printed as llama2.c prints it.
/// </summary>
public static class GenerateCommand
{
    private static readonly Option<string> Model = new("--model") { Description = "model spec (llama2.c .bin, Hugging Face folder, tiny-random[:...])", Required = true };
    private static readonly Option<string> Prompt = CliOptions.Text("--prompt", "the prompt", "");
    private static readonly Option<string> Tokenizer = CliOptions.Text("--tokenizer", "tokenizer file (default: the model's own)", helpName: "FILE");
    private static readonly Option<EngineDevice> Device = DeviceOption.Create("where the model runs");
    private static readonly Option<KvDType?> DType = DTypeOption.Create();
    private static readonly Option<double> Temperature = CliOptions.Double("--temperature", "sampling temperature (0: greedy)", 0, 0, 100);
    private static readonly Option<double> TopP = CliOptions.Double("--top-p", "nucleus sampling threshold", 0.9, 0, 1);
    private static readonly Option<ulong?> Seed = new("--seed") { Description = "sampling seed (default: the current time)" };
    private static readonly Option<int> Steps = CliOptions.Int("--steps", "total sequence length, prompt included, as llama2.c counts it", 256, 1, 1 << 20);
    private static readonly Option<int> MaxTokens = CliOptions.Int("--max-tokens", "new tokens to generate (-1: up to --steps)", -1, -1, 1 << 20);
    private static readonly Option<int> BlockTokens = CliOptions.Int("--block-tokens", "tokens per KV block", 16, 1, 4096);
    private static readonly Option<int> Threads = CliOptions.Int("--threads", "libtorch intra-op threads", 1, 1, 1024);
    private static readonly Option<bool> SplitOption = CliOptions.Flag("--split", "prefill and decode as two engines, the KV pushed layer by layer by the serving path");
    private static readonly Option<BackendChoice> Backend = CliOptions.Choice("--backend", "transport of --split", BackendChoice.Auto);
    private static readonly Option<bool> SplitInProcess = CliOptions.Flag("--split-in-process", "prefill and decode engines in this process, the KV copied between their pools");
    private static readonly Option<bool> Stats = CliOptions.Flag("--stats", "print timings and KV bytes on stderr");

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("generate", "one generation, printed as llama2.c prints it (colocated, or split into prefill and decode)")
        {
            Model, Prompt, Tokenizer, Device, DType, Temperature, TopP, Seed, Steps, MaxTokens, BlockTokens, Threads, SplitOption, Backend, SplitInProcess, Stats,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var split = parse.GetValue(SplitOption);
        var splitInProcess = parse.GetValue(SplitInProcess);
        if (split && splitInProcess) throw new UsageException("--split and --split-in-process exclude each other");
        try
        {
            TorchThreads.Configure(parse.GetValue(Threads));
            return await RunAsync(parse.GetValue(Model)!, parse.GetValue(Tokenizer), parse.GetValue(Prompt)!, parse.GetValue(Device)!, parse.GetValue(DType),
                (float)parse.GetValue(Temperature), (float)parse.GetValue(TopP), parse.GetValue(Seed) ?? (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                parse.GetValue(Steps), parse.GetValue(MaxTokens), parse.GetValue(BlockTokens), split, splitInProcess, parse.GetValue(Backend), parse.GetValue(Stats));
        }
        catch (Exception e) when (e is ModelLoadException or TransferException or ArgumentException)
        {
            Console.Error.WriteLine($"generate: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(string modelSpec, string? tokenizer, string prompt, PdRdma.Engines.EngineDevice device, KvDType? dtype, float temperature, float topP, ulong seed,
        int steps, int maxTokens, int blockTokens, bool split, bool splitInProcess, BackendChoice backend, bool stats)
    {
        var loadClock = Stopwatch.StartNew();
        using var model = ModelSource.Load(modelSpec, new ModelLoadOptions { Device = device, DType = dtype, TokenizerPath = tokenizer });
        var loadTime = loadClock.Elapsed;
        var promptTokens = model.Tokenizer.Encode(prompt);
        int maxNew = maxTokens >= 0 ? maxTokens : GenerationRequest.MaxNewTokensForSteps(steps, promptTokens.Length, model.Config.MaxSeqLen);
        var request = new GenerationRequest(promptTokens, maxNew, new SamplingOptions(temperature, topP, seed));
        int blocks = BlockTable.BlocksFor(model.Config.MaxSeqLen, blockTokens) + 1;
        var layout = model.Config.KvLayout(blockTokens, blocks);

        var stdout = Console.OpenStandardOutput();
        var previous = promptTokens[^1];
        var echo = TextRenderer.Render(model.Tokenizer, promptTokens, [], finalNewline: false);
        stdout.Write(echo);
        stdout.Flush();
        void Print(int token)
        {
            stdout.Write(model.Tokenizer.DecodePiece(previous, token));
            stdout.Flush();
            previous = token;
        }

        var clock = Stopwatch.StartNew();
        GenerationResult result;
        string mode;
        TimeSpan transfer = TimeSpan.Zero, ttft = TimeSpan.Zero;
        long transferBytes = 0;
        if (split)
        {
            // The serving KV path: two engines, each with a node's transfer machinery linked in, the KV pushed layer by
            // layer through the peer connection into the decode engine's pool.
            using var prefill = new LlamaServingModel(model, model.Name, ownsModel: false, blockTokens, blocks, device: device);
            using var decode = new LlamaServingModel(model, model.Name, ownsModel: false, blockTokens, blocks, device: device);
            await using var pair = await LocalSplit.StartAsync(prefill, decode, backend.ToString().ToLowerInvariant(), null, CancellationToken.None);
            PdRdma.Engines.Serving.Api.PrefillAnswer? pushed = null;
            var generated = new List<int>();
            var reason = StopReason.MaxTokens;
            var settings = new GenerationSettings(request.MaxNewTokens, request.Sampling);
            await foreach (var step in pair.GenerateAsync(promptTokens, settings, p => { pushed = p; ttft = clock.Elapsed; }))
            {
                if (step.IsEnd)
                {
                    reason = step.Finish == "stop" ? StopReason.StopToken : StopReason.MaxTokens;
                    break;
                }
                generated.Add(step.Token);
                Print(step.Token);
            }
            result = new GenerationResult(promptTokens, generated, reason);
            transfer = TimeSpan.FromMilliseconds(pushed?.ExposedMs ?? 0);
            transferBytes = pushed?.KvBytes ?? 0;
            mode = $"split (prefill and decode engines, each with a node's transfer agent; KV pushed layer by layer over {pushed?.Backend ?? "-"})";
        }
        else if (splitInProcess)
        {
            using var prefillPool = KvPool.Create(layout, $"prefill-kv", device);
            using var decodePool = KvPool.Create(layout, $"decode-kv", device);
            var runner = new InProcessSplit(new PrefillEngine(new LlamaEngine(model, prefillPool)),
                new DecodeEngine(new LlamaEngine(model, decodePool), TimeSpan.FromSeconds(30)));
            result = runner.Generate("cli", request, Print);
            transfer = runner.LastTransferTime;
            ttft = runner.LastTimeToFirstToken;
            transferBytes = runner.LastTransferBytes;
            mode = "split (two pools in one process, KV copied layer by layer)";
        }
        else
        {
            using var pool = KvPool.Create(layout, "kv", device);
            result = new LlamaEngine(model, pool).Generate(request, Print);
            mode = "colocated";
        }
        var elapsed = clock.Elapsed;
        stdout.Write("\n"u8);
        stdout.Flush();
        if (stats)
        {
            Console.Error.WriteLine($"model {model.Name} ({model.Config.Layers} layers, dim {model.Config.Dim}, {model.Config.DType}) loaded in {loadTime.TotalMilliseconds:F0} ms; mode {mode}");
            Console.Error.WriteLine($"prompt {promptTokens.Length} tokens, generated {result.Generated.Count} ({result.Reason}) in {elapsed.TotalMilliseconds:F0} ms, " +
                $"{result.Generated.Count / elapsed.TotalSeconds:F1} tok/s");
            if (split || splitInProcess)
            {
                Console.Error.WriteLine($"KV handed over: {transferBytes} bytes; transfer time not hidden by compute {transfer.TotalMilliseconds:F2} ms of TTFT {ttft.TotalMilliseconds:F1} ms");
            }
        }
        return 0;
    }
}
