using System.CommandLine;
using System.Net;
using PdRdma.Hosting.CommandLine;
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
    private static readonly Option<IPEndPoint> Listen = CliOptions.EndPoint("--listen", "where to listen", required: true);
    private static readonly Option<int> RegionMb = CliOptions.Int("--region-mb", "region size in MiB", 256, 1, 1 << 20);
    private static readonly Option<string> RegionId = CliOptions.Text("--region-id", "the region's name", "kv");
    private static readonly Option<string> NodeId = CliOptions.Text("--node-id", "this agent's node id (default: target-PID)");
    private static readonly Option<FileInfo> SecretFile = TransferOptions.SecretFile();
    private static readonly Option<int> Batches = CliOptions.Int("--batches", "exit after K notifications, hashing the region only at the last (0: serve until stopped)", 0);
    private static readonly Option<int> HandshakeTimeout = CliOptions.Int("--handshake-timeout", "seconds a peer has for its handshake", 10, 1, 3600);

    /// <summary>The command (internal: a peer of tests and measurements, not listed in help).</summary>
    public static Command Create()
    {
        var command = new Command("transfer-target", "transfer target: registers one zeroed region, listens, prints one JSON line per event")
        {
            Listen, RegionMb, RegionId, NodeId, SecretFile, Batches, HandshakeTimeout,
        };
        command.Hidden = true;
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var listen = parse.GetValue(Listen)!;
        var bytes = parse.GetValue(RegionMb) * 1024L * 1024;
        var regionId = parse.GetValue(RegionId)!;
        var nodeId = parse.GetValue(NodeId) ?? $"target-{Environment.ProcessId}";
        var secret = TransferOptions.ReadSecret(parse.GetValue(SecretFile));
        var exitAfter = parse.GetValue(Batches);
        var handshakeTimeout = TimeSpan.FromSeconds(parse.GetValue(HandshakeTimeout));

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
