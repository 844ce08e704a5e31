using System.CommandLine;
using PdRdma.Hosting.CommandLine;
using System.Net;
using PdRdma.Perf;
using PdRdma.Perf.Reporting;
using PdRdma.Perf.Transfer;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench initiator --peer IP:PORT --backend shm|tcp|verbs [plan options]</c> (hidden): the initiator side of
/// the transfer benchmarks. Prints one JSON line per measured point (with <c>--json</c> or not: it is for machines).
/// </summary>
public static class BenchInitiatorCommand
{
    private static readonly Option<IPEndPoint> Peer = CliOptions.EndPoint("--peer", "the target's endpoint", required: true);
    private static readonly Option<BenchBackend> Backend = CliOptions.Choice("--backend", "transport backend", BenchBackend.Tcp);
    private static readonly Option<bool> Json = CliOptions.Flag("--json", "JSON lines (always: the output is for machines)");
    private static readonly TransferPlanOptions Plan = new();

    /// <summary>The command (internal: started by the transfer benchmarks, not listed in help).</summary>
    public static Command Create()
    {
        var command = new Command("initiator", "the initiator process of the transfer benchmarks: one JSON line per measured point") { Peer, Backend, Json };
        Plan.AddTo(command);
        command.Hidden = true;
        command.SetAction((parse, _) => RunAsync(parse.GetValue(Peer)!, CliOptions.Name(parse.GetValue(Backend)), Plan.Read(parse)));
        return command;
    }

    private static async Task<int> RunAsync(IPEndPoint peer, string backend, TransferPlan plan)
    {
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
