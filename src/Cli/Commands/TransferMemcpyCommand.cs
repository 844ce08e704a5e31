using System.CommandLine;
using System.Net;
using PdRdma.Hosting.CommandLine;
using System.Diagnostics;
using PdRdma.Transport;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Transfer;

namespace PdRdma.Cli.Commands;

/// <summary>(internal) The memcpy baseline of the shm measurement: one region file into another, cold and warm.</summary>
public static class TransferMemcpyCommand
{
    private static readonly Option<int> Mb = CliOptions.Int("--mb", "bytes to copy, in MiB", 256, 1, 1 << 20);
    private static readonly Option<int> Repeat = CliOptions.Int("--repeat", "copies (the first is cold)", 3, 1, 10_000);

    /// <summary>The command (internal: the baseline of the shm measurement, not listed in help).</summary>
    public static Command Create()
    {
        var command = new Command("transfer-memcpy", "memcpy baseline between two region files: one JSON line") { Mb, Repeat };
        command.Hidden = true;
        command.SetAction(parse => Run(parse.GetValue(Mb) * 1024L * 1024, parse.GetValue(Repeat)));
        return command;
    }

    private static int Run(long bytes, int repeat)
    {

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
        return 0;
    }
}
