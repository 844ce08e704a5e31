using System.Globalization;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Split;
using PdRdma.Transport;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma decode-worker --model M [--tokenizer F] [--dtype f32|bf16] [--block-tokens 16] [--blocks N] [--threads 1] [--backend auto|shm|tcp] [--device cpu|cuda[:N]]</c>:
/// the decode process of <c>generate --split</c>; speaks JSON lines on stdin/stdout (see DecodeWorkerHost).
/// </summary>
public static class DecodeWorkerCommand
{
    public const string Help = "(internal) decode side of generate --split, driven over stdin/stdout";

    public static async Task<int> RunAsync(string[] args)
    {
        string? model = null, tokenizer = null;
        int blockTokens = 16, blocks = 0, threads = 1;
        KvDType? dtype = null;
        var backend = BackendChoice.Auto;
        var device = PdRdma.Engines.EngineDevice.Cpu;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = Next(); break;
                case "--tokenizer": tokenizer = Next(); break;
                case "--dtype": dtype = Next() is "bf16" or "bfloat16" ? KvDType.BFloat16 : KvDType.Float32; break;
                case "--block-tokens": blockTokens = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--blocks": blocks = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--backend": backend = Enum.Parse<BackendChoice>(Next(), ignoreCase: true); break;
                case "--device": device = PdRdma.Engines.EngineDevice.Parse(Next()); break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine($"decode-worker: unknown option '{args[i]}'"); return 2;
            }
        }
        if (model is null)
        {
            Console.Error.WriteLine("decode-worker: --model is required");
            return 2;
        }
        try
        {
            PdRdma.Engines.TorchThreads.Configure(threads);
            using var loaded = ModelSource.Load(model, new ModelLoadOptions { Device = device, DType = dtype, TokenizerPath = tokenizer });
            if (blocks <= 0) blocks = 4 * BlockTable.BlocksFor(loaded.Config.MaxSeqLen, blockTokens);
            using var pool = KvPool.Create(loaded.Config.KvLayout(blockTokens, blocks), "decode-worker-kv", device);
            var decode = new DecodeEngine(new LlamaEngine(loaded, pool), TimeSpan.FromSeconds(60));
            await using var agent = new TransferAgent(new TransferAgentOptions
            {
                NodeId = $"decode-{Environment.ProcessId}",
                Layout = pool.Layout,
                Listen = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
                Backend = backend,
            });
            agent.RegisterRegion(pool.MemoryRegion);
            await agent.StartAsync(CancellationToken.None);
            await DecodeWorkerHost.RunAsync(decode, agent, Console.In, Console.Out, TimeSpan.FromSeconds(60), CancellationToken.None);
            return 0;
        }
        catch (Exception e) when (e is ModelLoadException or TransferException or ArgumentException)
        {
            Console.Error.WriteLine($"decode-worker: {e.Message}");
            return 1;
        }
    }
}
