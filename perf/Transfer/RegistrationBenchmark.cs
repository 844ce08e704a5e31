using System.Diagnostics;
using PdRdma.Perf.Results;
using PdRdma.Transport;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// Region setup cost against size: create and map the /dev/shm file, register it with an agent, touch every page.
/// Registration is paid once per region at start (never per request); this shows what that once costs.
/// </summary>
public static class RegistrationBenchmark
{
    public static async Task RunAsync(BenchRun run, long maxBytes, CancellationToken ct)
    {
        await using var agent = new TransferAgent(new TransferAgentOptions { NodeId = $"bench-registration-{Environment.ProcessId}" });
        var index = 0;
        for (long bytes = 1 << 20; bytes <= maxBytes; bytes *= 4)
        {
            ct.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            using var region = HostRegion.Create($"bench-reg-{index++}", bytes);
            var created = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            agent.RegisterRegion(region);
            var registered = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            TouchPages(region);
            var touched = clock.Elapsed.TotalMilliseconds;
            run.Registration.Add(new RegistrationPoint
            {
                Bytes = bytes, CreateMs = Math.Round(created, 3), RegisterMs = Math.Round(registered, 3), FirstTouchMs = Math.Round(touched, 3),
            });
        }
    }

    private static void TouchPages(HostRegion region)
    {
        for (long offset = 0; offset < region.Length; offset += Environment.SystemPageSize) region.AsSpan(offset, 1)[0] = 1;
    }
}
