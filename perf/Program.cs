using PdRdma.Perf.Commands;
using PdRdma.Transport;

// pdrdma-bench: the benchmarks, a program of their own so that the shipped CLI carries neither them nor ScottPlot.
// `pdrdma bench …` runs this program; its internal peers (target, initiator, decode) are this program again.
try
{
    return args.FirstOrDefault() switch
    {
        "target" => await BenchTargetCommand.RunAsync(args[1..]),
        "initiator" => await BenchInitiatorCommand.RunAsync(args[1..]),
        "decode" => await BenchDecodeCommand.RunAsync(args[1..]),
        "layout" => await BenchLayoutCommand.RunAsync(args[1..]),
        _ => await BenchCommand.RunAsync(args),
    };
}
catch (TransferException e)
{
    Console.Error.WriteLine($"pdrdma bench: {e.Message}");
    return 1;
}
