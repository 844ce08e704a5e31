using System.CommandLine;
using PdRdma.Hosting.CommandLine;
using System.Net;
using PdRdma.Perf;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench target --listen IP:PORT --backend shm|tcp|verbs --region-bytes N</c> (hidden): the target side of
/// the transfer benchmarks, a TransferAgent with one region. Prints <c>ready &lt;endpoint&gt;</c>, serves until stdin
/// closes, SIGTERM or Ctrl-C.
/// </summary>
public static class BenchTargetCommand
{
    private static readonly Option<IPEndPoint> Listen = CliOptions.EndPoint("--listen", "where to listen", required: false, "127.0.0.1:0");
    private static readonly Option<BenchBackend> Backend = CliOptions.Choice("--backend", "transport backend", BenchBackend.Tcp);
    private static readonly Option<long> RegionBytes = CliOptions.Bytes("--region-bytes", "the region's size", 256L << 20);
    private static readonly Option<int> DataMac = CliOptions.Int("--data-mac", "1: authenticate tcp payloads (the default), 0: only frames (to measure the cost)", 1, 0, 1);
    private static readonly Option<string> ExitWhenFile = CliOptions.Text("--exit-when-file", "stop when this file appears (where stdin is no pipe, inside the VMs)", helpName: "FILE");

    /// <summary>The command (internal: started by the transfer benchmarks, not listed in help).</summary>
    public static Command Create()
    {
        var command = new Command("target", "the target process of the transfer benchmarks") { Listen, Backend, RegionBytes, ExitWhenFile, DataMac };
        command.Hidden = true;
        command.SetAction((parse, _) => RunAsync(parse.GetValue(Listen)!, CliOptions.Name(parse.GetValue(Backend)), parse.GetValue(RegionBytes), parse.GetValue(ExitWhenFile), parse.GetValue(DataMac) != 0));
        return command;
    }

    private static async Task<int> RunAsync(IPEndPoint listen, string backend, long regionBytes, string? exitWhenFile, bool dataMac)
    {
        using var stop = new CancellationTokenSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        if (exitWhenFile is { } file)
        {
            // where stdin is no pipe (inside the VMs), the initiator's side says "done" with a file
            _ = Task.Run(async () =>
            {
                while (!File.Exists(file) && !stop.IsCancellationRequested) await Task.Delay(200);
                stop.Cancel();
            });
        }
        else _ = Task.Run(async () =>
        {
            // stdin closing is how the benchmark that started us says "done"
            try { await Console.In.ReadToEndAsync(stop.Token); } catch (OperationCanceledException) { }
            stop.Cancel();
        });
        await PdRdma.Perf.Transfer.TransferTarget.RunAsync(listen, backend, regionBytes, dataMac, Console.Out, stop.Token);
        return 0;
    }
}
