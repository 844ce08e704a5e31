using System.Net;
using PdRdma.Perf;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench-target --listen IP:PORT --backend shm|tcp|verbs --region-bytes N</c> (hidden): the target side of
/// the transfer benchmarks, a TransferAgent with one region. Prints <c>ready &lt;endpoint&gt;</c>, serves until stdin
/// closes, SIGTERM or Ctrl-C.
/// </summary>
public static class BenchTargetCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args, ["--listen", "--backend", "--region-bytes", "--exit-when-file"], []);
        var listen = IPEndPoint.Parse(options.String("--listen", "127.0.0.1:0"));
        var backend = BenchBackends.Check(options.String("--backend", "tcp"));
        var regionBytes = options.Long("--region-bytes", 256L << 20);
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
        if (options.String("--exit-when-file") is { } file)
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
await PdRdma.Perf.Transfer.TransferTarget.RunAsync(listen, backend, regionBytes, Console.Out, stop.Token);
        return 0;
    }
}
