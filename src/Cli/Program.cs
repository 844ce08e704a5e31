using PdRdma.Cli;
using PdRdma.Engines;
using PdRdma.Transport;

try
{
    // Before TorchSharp touches native code: the GPU bundle takes the host's PyTorch libtorch (PDRDMA_LIBTORCH_DIR).
    TorchRuntime.PreloadHostLibTorch();
}
catch (TransferException e)
{
    Console.Error.WriteLine($"pdrdma: {e.Message}");
    return 1;
}
return await CliApp.RunAsync(args);
