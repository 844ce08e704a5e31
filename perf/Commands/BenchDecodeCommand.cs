using System.Net;
using PdRdma.Perf;
using PdRdma.Perf.E2e;

namespace PdRdma.Perf.Commands;

/// <summary>
/// <c>pdrdma bench-decode --model M [--tokenizer T] --backend shm|tcp|verbs --listen IP:PORT --blocks N --tokens-per-block N</c>
/// (hidden): the decoding process of the end-to-end benchmark, driven by lines on stdin; exits when stdin closes.
/// </summary>
public static class BenchDecodeCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = new BenchArgs(args, ["--model", "--tokenizer", "--backend", "--listen", "--blocks", "--tokens-per-block"], []);
        var model = options.String("--model") ?? throw new ArgumentException("--model is required");
        using var stop = new CancellationTokenSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        try
        {
            await DecodeServer.RunAsync(model, options.String("--tokenizer"), BenchBackends.Check(options.String("--backend", "shm")),
                IPEndPoint.Parse(options.String("--listen", "127.0.0.1:0")),
                checked((int)options.Long("--blocks", 256)), checked((int)options.Long("--tokens-per-block", 16)),
                Console.In, Console.Out, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        return 0;
    }
}
