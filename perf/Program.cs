using PdRdma.Hosting.CommandLine;
using PdRdma.Perf.Commands;

// pdrdma-bench: the benchmarks, a program of their own so that the shipped CLI carries neither them nor ScottPlot.
// `pdrdma bench …` runs this program; its internal peers (target, initiator) are this program again.
return await CommandLineApp.RunAsync(BenchCommand.CreateRoot(), args, "pdrdma bench");
