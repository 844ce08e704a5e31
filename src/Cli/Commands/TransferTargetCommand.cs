using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text.Json;
using PdRdma.Transport;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Transfer;

namespace PdRdma.Cli.Commands;

/// <summary>
/// (internal) The target of transfer tests and measurements: registers one zeroed region, listens, and prints one JSON
/// line per event: listening (endpoint), then per notification the region's XxHash3 so senders can check bit-identity.
/// </summary>
public static class TransferTargetCommand
{
    public const string Help = "(internal) transfer target: --listen IP:PORT --region-mb N [--region-id kv] [--node-id ID] [--secret-file F] [--batches K: exit after K notifications, hashing the region only at the last] [--handshake-timeout S]";

    public static Task<int> RunAsync(string[] args) => TransferCliArgs.RunReportingErrorsAsync(args, RunCoreAsync);

    private static async Task<int> RunCoreAsync(string[] args)
    {
        var options = new TransferCliArgs(args);
        var listen = options.EndPoint("--listen");
        var bytes = options.Long("--region-mb", 256) * 1024 * 1024;
        var regionId = options.String("--region-id", "kv");
        var nodeId = options.String("--node-id", $"target-{Environment.ProcessId}");
        var secret = options.Secret();
        var exitAfter = options.Long("--batches", 0);
        var handshakeTimeout = TimeSpan.FromSeconds(options.Long("--handshake-timeout", 10));
        options.EnsureAllRead();

        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        RegionFiles.RemoveStale();
        using var region = HostRegion.Create(regionId, bytes);
        TransferPattern.Prefault(region);
        await using var agent = new TransferAgent(new TransferAgentOptions { NodeId = nodeId, Listen = listen, ClusterSecret = secret, HandshakeTimeout = handshakeTimeout });
        agent.RegisterRegion(region);
        await agent.StartAsync(stop.Token);
        Print(new { @event = "listening", endpoint = agent.LocalEndpoint!.ToString(), node = nodeId, region = regionId, bytes, path = region.SharedPath });

        long seen = 0;
        try
        {
            await foreach (var note in agent.Notifications.ReadAllAsync(stop.Token))
            {
                var last = exitAfter > 0 && ++seen >= exitAfter;
                // With --batches, only the last notification hashes the region, so measurements are not slowed by hashing.
                Print(new
                {
                    @event = "notified",
                    peer = note.PeerNodeId,
                    bytes = note.Bytes,
                    payload = System.Text.Encoding.UTF8.GetString(note.Payload),
                    region_xxhash3 = exitAfter == 0 || last ? Hash(region) : null,
                });
                if (last) break;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        return 0;
    }

    public static string Hash(HostRegion region)
    {
        var hash = new XxHash3();
        for (long done = 0; done < region.Length; done += 1 << 30)
        {
            hash.Append(region.AsSpan(done, (int)Math.Min(1 << 30, region.Length - done)));
        }
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    internal static void Print(object value)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(value));
        Console.Out.Flush();
    }
}
