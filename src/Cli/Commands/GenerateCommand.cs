using System.Diagnostics;
using System.Globalization;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Sampling;
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
    public const string Help = "one generation: --model M (llama2.c .bin, HF folder, tiny-random) --prompt P [--split [--backend auto|shm|tcp] | --split-in-process] [--temperature 0] [--max-tokens N]";

    public static async Task<int> RunAsync(string[] args)
    {
        string? model = null, tokenizer = null, prompt = "";
        var device = PdRdma.Engines.EngineDevice.Cpu;
        float temperature = 0f, topP = 0.9f;
        ulong seed = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        int steps = 256, maxTokens = -1, blockTokens = 16, threads = 1;
        bool split = false, splitInProcess = false, stats = false;
        KvDType? dtype = null;
        var backend = BackendChoice.Auto;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = Next(); break;
                case "--prompt": prompt = Next(); break;
                case "--tokenizer": tokenizer = Next(); break;
                case "--device": device = PdRdma.Engines.EngineDevice.Parse(Next()); break;
                case "--temperature": temperature = float.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--top-p": topP = float.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--steps": steps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--max-tokens": maxTokens = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--block-tokens": blockTokens = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--dtype": dtype = Next() switch { "f32" or "float32" => KvDType.Float32, "bf16" or "bfloat16" => KvDType.BFloat16, var d => throw new ArgumentException($"--dtype {d}: use f32 or bf16") }; break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--split": split = true; break;
                case "--backend": backend = Enum.Parse<BackendChoice>(Next(), ignoreCase: true); break;
                case "--split-in-process": splitInProcess = true; break;
                case "--stats": stats = true; break;
                default:
                    Console.Error.WriteLine($"generate: unknown option '{args[i]}'\n{Help}");
                    return 2;
            }
        }
        if (model is null)
        {
            Console.Error.WriteLine($"generate: --model is required\n{Help}");
            return 2;
        }

        try
        {
            PdRdma.Engines.TorchThreads.Configure(threads);
            var workerArgs = new List<string> { "--model", model, "--block-tokens", blockTokens.ToString(CultureInfo.InvariantCulture), "--threads", threads.ToString(CultureInfo.InvariantCulture) };
            if (tokenizer is not null) workerArgs.AddRange(["--tokenizer", tokenizer]);
            if (dtype is not null) workerArgs.AddRange(["--dtype", dtype == KvDType.BFloat16 ? "bf16" : "f32"]);
            if (device.IsCuda) workerArgs.AddRange(["--device", device.ToString()]);
            return await RunAsync(model, tokenizer, prompt, device, dtype, temperature, topP, seed, steps, maxTokens, blockTokens,
                split ? workerArgs : null, splitInProcess, backend, stats);
        }
        catch (Exception e) when (e is ModelLoadException or TransferException or ArgumentException)
        {
            Console.Error.WriteLine($"generate: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(string modelSpec, string? tokenizer, string prompt, PdRdma.Engines.EngineDevice device, KvDType? dtype, float temperature, float topP, ulong seed,
        int steps, int maxTokens, int blockTokens, List<string>? splitWorkerArgs, bool splitInProcess, BackendChoice backend, bool stats)
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
        if (splitWorkerArgs is not null)
        {
            using var prefillPool = KvPool.Create(layout, "prefill-kv", device);
            await using var worker = await DecodeWorkerClient.StartAsync(PdrdmaProgram.Cli.WorkerPath(), splitWorkerArgs,
                new PrefillEngine(new LlamaEngine(model, prefillPool)), backend, TimeSpan.FromMinutes(2));
            result = await worker.GenerateAsync("cli", request, Print);
            transfer = worker.LastExposedTransferTime;
            transferBytes = worker.LastTransferBytes;
            ttft = worker.LastTimeToFirstToken;
            mode = $"split (decode in a second process; KV pushed layer by layer by the transfer agent over {worker.Backend}: {worker.BackendReason})";
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
            if (splitWorkerArgs is not null || splitInProcess)
            {
                Console.Error.WriteLine($"KV handed over: {transferBytes} bytes; transfer time not hidden by compute {transfer.TotalMilliseconds:F2} ms of TTFT {ttft.TotalMilliseconds:F1} ms");
            }
        }
        return 0;
    }
}
