#if PDRDMA_ENGINES && PDRDMA_AGENT
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Threading.Channels;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;

namespace PdRdma.Perf.E2e;

public static partial class DecodeServer
{
    private static async Task ServeAsync(string modelSpec, string? tokenizer, string backend, IPEndPoint listen, int blocks, int tokensPerBlock,
        TextReader input, TextWriter output, CancellationToken ct)
    {
        EngineThreads.Apply();
        using var model = ModelSource.Load(modelSpec, new ModelLoadOptions { TokenizerPath = tokenizer });
        var layout = model.Config.KvLayout(tokensPerBlock, blocks);
        using var pool = KvPool.Create(layout, PoolRegion);
        var decode = new DecodeEngine(new LlamaEngine(model, pool), TimeSpan.FromMinutes(10));
        await using var agent = new TransferAgent(new TransferAgentOptions
        {
            NodeId = $"bench-decode-{Environment.ProcessId}", Backend = BenchBackends.ToChoice(backend), Listen = listen, Layout = layout,
        });
        agent.RegisterRegion(pool.Region);
        await agent.StartAsync(ct);

        var arrivals = new ConcurrentDictionary<string, TaskCompletionSource<long>>(StringComparer.Ordinal);
        TaskCompletionSource<long> Arrival(string id) => arrivals.GetOrAdd(id, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));
        var notifications = Task.Run(async () =>
        {
            await foreach (var n in agent.Notifications.ReadAllAsync(ct)) Arrival(Encoding.UTF8.GetString(n.Payload)).TrySetResult(Stopwatch.GetTimestamp());
        }, ct);

        var gate = new object();
        void Say(string line)
        {
            lock (gate)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }
        var leases = new ConcurrentDictionary<string, KvLease>(StringComparer.Ordinal);
        var work = Channel.CreateUnbounded<string[]>();
        var worker = Task.Run(async () =>
        {
            await foreach (var cmd in work.Reader.ReadAllAsync(ct))
            {
                if (cmd[0] == "generate")
                {
                    Say(Generate(decode.Engine, cmd));
                    continue;
                }
                var id = cmd[1];
                var first = int.Parse(cmd[2], CultureInfo.InvariantCulture);
                var rng = ulong.Parse(cmd[3], CultureInfo.InvariantCulture);
                var maxTokens = int.Parse(cmd[4], CultureInfo.InvariantCulture);
                var prompt = PromptMaker.Make(int.Parse(cmd[5], CultureInfo.InvariantCulture), int.Parse(cmd[6], CultureInfo.InvariantCulture), model.Config.VocabSize);
                var waitStart = Stopwatch.GetTimestamp();
                await Arrival(id).Task.WaitAsync(TimeSpan.FromSeconds(120), ct);
                var waited = Stopwatch.GetElapsedTime(waitStart).TotalMilliseconds;
                arrivals.TryRemove(id, out _);
                leases.TryRemove(id, out var lease);
                var stamps = new List<long>();
                decode.Resume(lease!, new PrefillResult(prompt, first, rng, lease!.BlockIds), maxTokens, SamplingOptions.Greedy, _ => stamps.Add(Stopwatch.GetTimestamp()));
                var tpot = stamps.Count > 1 ? Stopwatch.GetElapsedTime(stamps[0], stamps[^1]).TotalMilliseconds / (stamps.Count - 1) : double.NaN;
                Say(string.Create(CultureInfo.InvariantCulture, $"done {id} {stamps.Count} {tpot:R} {waited:R}"));
            }
        }, ct);

        Say($"ready {agent.LocalEndpoint}");
        while (await input.ReadLineAsync(ct) is { } line)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            switch (parts[0])
            {
                case "reserve":
                    var lease = decode.Reserve(parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture));
                    leases[parts[1]] = lease;
                    Say($"lease {parts[1]} {string.Join(',', lease.BlockIds)}");
                    break;
                case "resume":
                case "generate":
                    work.Writer.TryWrite(parts);
                    break;
                default:
                    Say($"error unknown command '{parts[0]}'");
                    break;
            }
        }
        work.Writer.TryComplete();
        await worker;
    }

    /// <summary><c>generate ID MAXTOKENS SEED LEN</c>: the colocated case, prefill and decode in this one engine → <c>colocated ID TTFT_MS TPOT_MS TOKENS</c>.</summary>
    private static string Generate(LlamaEngine engine, string[] cmd)
    {
        var prompt = PromptMaker.Make(int.Parse(cmd[3], CultureInfo.InvariantCulture), int.Parse(cmd[4], CultureInfo.InvariantCulture), engine.Model.Config.VocabSize);
        var stamps = new List<long>();
        var start = Stopwatch.GetTimestamp();
        engine.Generate(new GenerationRequest(prompt, int.Parse(cmd[2], CultureInfo.InvariantCulture), SamplingOptions.Greedy), _ => stamps.Add(Stopwatch.GetTimestamp()));
        var ttft = stamps.Count > 0 ? Stopwatch.GetElapsedTime(start, stamps[0]).TotalMilliseconds : double.NaN;
        var tpot = stamps.Count > 1 ? Stopwatch.GetElapsedTime(stamps[0], stamps[^1]).TotalMilliseconds / (stamps.Count - 1) : double.NaN;
        return string.Create(CultureInfo.InvariantCulture, $"colocated {cmd[1]} {ttft:R} {tpot:R} {stamps.Count}");
    }
}
#endif
