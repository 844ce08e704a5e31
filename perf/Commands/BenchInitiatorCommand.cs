using System.Net;
using PdRdma.Perf;
using PdRdma.Perf.Reporting;
using PdRdma.Perf.Transfer;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench-initiator --peer IP:PORT --backend shm|tcp|verbs [plan options]</c> (hidden): the initiator side of
/// the transfer benchmarks. Prints one JSON line per measured point (with <c>--json</c> or not: it is for machines).
/// </summary>
public static class BenchInitiatorCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args, ["--peer", "--backend", "--sizes", "--latency-max", "--batch-bytes", "--batch-ops", "--kv-blocks", "--kv-total", "--budget-ms", "--depth"], ["--json"]);
        var peer = IPEndPoint.Parse(options.String("--peer") ?? throw new ArgumentException("--peer IP:PORT is required"));
        var backend = BenchBackends.Check(options.String("--backend", "tcp"));
        var plan = TransferPlan.Parse(options);
        if (plan.Sizes.Count == 0 && plan.BatchOps.Count == 0 && plan.KvBlockBytes.Count == 0) plan = plan with { Sizes = TransferPlan.SizesUpTo(256L << 20) };
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
await new TransferInitiator(plan, backend, record =>
        {
            Console.WriteLine(BenchJson.Line(record));
            Console.Out.Flush();
        }).RunAsync(peer, cts.Token);
        return 0;
    }
}
