using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using PdRdma.Transport;
using PdRdma.Transport.Cuda;
using PdRdma.Transport.LevelZero;

namespace PdRdma.Cli.Commands;

/// <summary>
/// Step 2 on a host with an NVIDIA GPU and an Intel XPU: a CUDA region's bytes reach a Level Zero region and back,
/// by the path <see cref="CrossVendorLink"/> chooses (dma-buf imported into Level Zero, else host staging), and by
/// host staging in the same run for comparison. Prints one JSON object.
/// </summary>
public static class XpuCudaCheckCommand
{
    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("xpu-cuda-check", "CUDA region <-> Level Zero region on one host, dma-buf import vs host staging; prints one JSON object");
        XpuCheckOptions.AddTo(command, socket: false);
        command.SetAction((parse, _) => RunAsync(XpuCheckOptions.From(parse)));
        return command;
    }

    private static Task<int> RunAsync(XpuCheckOptions options)
    {
        var result = new Dictionary<string, object?> { ["bytes"] = options.Bytes };
        CudaDevice? cuda = null;
        LevelZeroDevice? xpu = null;
        try
        {
            cuda = CudaDevice.Open(0);
            xpu = options.OpenDevice();
        }
        catch (TransferException e)
        {
            cuda?.Dispose();
            Console.WriteLine(JsonSerializer.Serialize(XpuCheckOptions.Failure(e)));
            return Task.FromResult(3);
        }
        using (cuda)
        using (xpu)
        {
            result["cuda_device"] = cuda.Name;
            result["xpu_device"] = xpu.Name;
            var bytes = options.Bytes;
            using var gpuRegion = CudaDeviceRegion.Allocate(cuda, "prefill-pool", bytes);
            using var xpuRegion = LevelZeroDeviceRegion.Allocate(xpu, "decode-pool", bytes);
            var toXpu = XpuCheckOptions.Pattern(bytes, 11);
            var back = XpuCheckOptions.Pattern(bytes, 12);
            var sink = new byte[bytes];
            foreach (var allowDmaBuf in new[] { true, false })
            {
                var key = allowDmaBuf ? "chosen" : "staged";
                using var link = CrossVendorLink.Attach(gpuRegion, xpu, allowDmaBuf);
                result[$"{key}_path"] = link.Path.ToString();
                result[$"{key}_reason"] = link.Reason;
                gpuRegion.Write(0, toXpu);
                result[$"{key}_cuda_to_xpu_gbps"] = Measure(() => link.CopyToXpu(0, xpuRegion, 0, bytes), bytes);
                xpuRegion.Read(0, sink);
                result[$"{key}_cuda_to_xpu_identical"] = sink.AsSpan().SequenceEqual(toXpu);
                xpuRegion.Write(0, back);
                result[$"{key}_xpu_to_cuda_gbps"] = Measure(() => link.CopyFromXpu(xpuRegion, 0, 0, bytes), bytes);
                gpuRegion.Read(0, sink);
                result[$"{key}_xpu_to_cuda_identical"] = sink.AsSpan().SequenceEqual(back);
            }
        }
        Console.WriteLine(JsonSerializer.Serialize(result));
        var ok = result.Where(kv => kv.Key.EndsWith("_identical", StringComparison.Ordinal)).All(kv => kv.Value is true);
        return Task.FromResult(ok ? 0 : 1);
    }

    private static double Measure(Action copy, long bytes)
    {
        copy();
        var watch = Stopwatch.StartNew();
        copy();
        return Math.Round(bytes * 8 / watch.Elapsed.TotalSeconds / 1e9, 2);
    }
}
