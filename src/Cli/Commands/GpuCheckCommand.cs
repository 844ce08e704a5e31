using System.CommandLine;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text.Json;
using PdRdma.Transport;
using PdRdma.Transport.Cuda;
using PdRdma.Hosting.Processes;

namespace PdRdma.Cli.Commands;

/// <summary>
/// Checks the CUDA path on a GPU host and measures it: host region → device (pinned), device → host, a push
/// into another process's device region through a CUDA IPC handle (same device, two processes), and dma-buf
/// export for GPUDirect RDMA. Prints one JSON object.
/// </summary>
public static class GpuCheckCommand
{
    private static readonly Argument<long> MiB = Hosting.CommandLine.CliOptions.IntArgument("MiB", "region size in MiB", 1, 65536, 256);

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("gpu-check", "CUDA regions on this host's GPU: copies, IPC push between processes, dma-buf; prints one JSON object") { MiB };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(MiB) * 1024L * 1024L));
        return command;
    }

    private static async Task<int> RunAsync(long bytes)
    {
        var result = new Dictionary<string, object?> { ["bytes"] = bytes };
        using var device = CudaDevice.Open(0);
        result["device"] = device.Name;

        using var source = HostRegion.Create("gpu-check-src", bytes);
        using var sink = HostRegion.Create("gpu-check-sink", bytes);
        new Random(42).NextBytes(source.AsSpan(0, (int)bytes));
        var sourceHash = Convert.ToHexString(XxHash3.Hash(source.AsSpan(0, (int)bytes)));

        result["memcpy_gbps"] = Measure(() => source.AsSpan(0, (int)bytes).CopyTo(sink.AsSpan(0, (int)bytes)), bytes);
        result["host_pinned"] = CudaHostPin.TryPin(source, out var pin, out var pinError) & CudaHostPin.TryPin(sink, out var sinkPin, out var sinkPinError);
        result["host_pin_error"] = pinError ?? sinkPinError;

        using var prefillPool = CudaDeviceRegion.Allocate(device, "prefill-pool", bytes);
        result["h2d_gbps"] = Measure(() => prefillPool.Write(0, source.AsSpan(0, (int)bytes)), bytes);
        sink.AsSpan(0, (int)bytes).Clear();
        result["d2h_gbps"] = Measure(() => prefillPool.Read(0, sink.AsSpan(0, (int)bytes)), bytes);
        result["roundtrip_identical"] = Convert.ToHexString(XxHash3.Hash(sink.AsSpan(0, (int)bytes))) == sourceHash;

        using var scratch = CudaDeviceRegion.Allocate(device, "scratch", bytes);
        result["d2d_gbps"] = Measure(() => scratch.CopyFrom(prefillPool, 0, 0, bytes), bytes);

        await PushToPeerProcessAsync(device, prefillPool, sourceHash, bytes, result);

        try
        {
            using var fd = prefillPool.ExportDmaBuf();
            result["dmabuf_fd"] = fd.DangerousGetHandle().ToInt64();
        }
        catch (TransferException e)
        {
            result["dmabuf_error"] = e.Message;
        }
        pin?.Dispose();
        sinkPin?.Dispose();

        Console.WriteLine(JsonSerializer.Serialize(result));
        return result.TryGetValue("ipc_verified", out var ok) && ok is true && result["roundtrip_identical"] is true ? 0 : 1;
    }

    private static async Task PushToPeerProcessAsync(CudaDevice device, CudaDeviceRegion prefillPool, string hash, long bytes, Dictionary<string, object?> result)
    {
        var info = PdrdmaProgram.Cli.StartInfo("gpu-ipc-peer", bytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        using var peer = Process.Start(info) ?? throw new InvalidOperationException("could not start gpu-ipc-peer");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            var first = await peer.StandardOutput.ReadLineAsync(timeout.Token) ?? string.Empty;
            if (!first.StartsWith("handle ", StringComparison.Ordinal))
            {
                result["ipc_error"] = $"peer said '{first}'";
                return;
            }
            var handle = Convert.FromHexString(first[7..].Trim());
            using var decodePool = CudaDeviceRegion.OpenIpc(device, "decode-pool", handle, bytes);
            result["ipc_push_gbps"] = Measure(() => decodePool.CopyFrom(prefillPool, 0, 0, bytes), bytes);
            await peer.StandardInput.WriteLineAsync($"done {hash}");
            await peer.StandardInput.FlushAsync(timeout.Token);
            var verdict = await peer.StandardOutput.ReadLineAsync(timeout.Token) ?? string.Empty;
            result["ipc_verified"] = verdict.StartsWith("verified true", StringComparison.Ordinal);
            await peer.WaitForExitAsync(timeout.Token);
        }
        catch (TransferException e)
        {
            result["ipc_error"] = e.Message;
        }
        finally
        {
            if (!peer.HasExited) peer.Kill(entireProcessTree: true);
        }
    }

    private static double Measure(Action copy, long bytes)
    {
        copy();
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            copy();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return Math.Round(bytes * 8 / best / 1e9, 2);
    }
}
