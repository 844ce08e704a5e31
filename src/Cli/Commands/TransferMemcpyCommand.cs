using System.Diagnostics;
using PdRdma.Transport;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Transfer;

namespace PdRdma.Cli.Commands;

/// <summary>(internal) The memcpy baseline of the shm measurement: one region file into another, cold and warm.</summary>
public static class TransferMemcpyCommand
{
    public const string Help = "(internal) memcpy baseline between two region files: --mb N [--repeat R]";

    public static Task<int> RunAsync(string[] args)
    {
        var options = new TransferCliArgs(args);
        var bytes = options.Long("--mb", 256) * 1024 * 1024;
        var repeat = (int)options.Long("--repeat", 3);
        options.EnsureAllRead();

        RegionFiles.RemoveStale();
        using var source = HostRegion.Create("memcpy-src", bytes);
        using var target = HostRegion.Create("memcpy-dst", bytes);
        for (long done = 0; done < bytes; done += 1 << 30)
        {
            TransferPattern.Fill(source.AsSpan(done, (int)Math.Min(1 << 30, bytes - done)), 1, done);
        }
        TransferPattern.Prefault(target);
        var runs = new List<double>();
        for (var run = 0; run < repeat; run++)
        {
            var started = Stopwatch.GetTimestamp();
            for (long done = 0; done < bytes; done += 1 << 30)
            {
                var n = (int)Math.Min(1 << 30, bytes - done);
                source.AsSpan(done, n).CopyTo(target.AsSpan(done, n));
            }
            runs.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        TransferTargetCommand.Print(new
        {
            bytes,
            seconds = runs[0],
            gbps = TransferSendCommand.Gbps(bytes, runs[0]),
            best_seconds = runs.Min(),
            best_gbps = TransferSendCommand.Gbps(bytes, runs.Min()),
            runs = runs.Select(s => Math.Round(s, 6)).ToArray(),
            identical = TransferTargetCommand.Hash(source) == TransferTargetCommand.Hash(target),
        });
        return Task.FromResult(0);
    }
}
