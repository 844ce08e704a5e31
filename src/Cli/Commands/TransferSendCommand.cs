using System.CommandLine;
using System.Net;
using PdRdma.Hosting.CommandLine;
using System.Net.Sockets;
using System.Diagnostics;
using PdRdma.Transport;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Transfer;

namespace PdRdma.Cli.Commands;

/// <summary>
/// (internal) The initiator of transfer tests and measurements: fills a region with <see cref="TransferPattern"/>,
/// writes it whole into the target's region (optionally several times), and prints one JSON line with the timing.
/// </summary>
public static class TransferSendCommand
{
    private static readonly Option<IPEndPoint> Peer = CliOptions.EndPoint("--peer", "the target's endpoint", required: true);
    private static readonly Option<int> Mb = CliOptions.Int("--mb", "bytes to write, in MiB", 256, 1, 1 << 20);
    private static readonly Option<BackendChoice> Backend = CliOptions.Choice("--backend", "transport backend", BackendChoice.Auto);
    private static readonly Option<bool> Checksum = CliOptions.Flag("--checksum", "checksum every batch (xxhash3) and have the target verify it");
    private static readonly Option<int> Repeat = CliOptions.Int("--repeat", "write the region this many times", 1, 1, 1_000_000);
    private static readonly Option<int> Ops = CliOptions.Int("--ops", "split the region into this many write ops per batch", 1, 1, 1 << 20);
    private static readonly Option<int> Seed = CliOptions.Int("--seed", "seed of the fill pattern", 1);
    private static readonly Option<string> TargetRegion = CliOptions.Text("--target-region", "the target's region name", "kv");
    private static readonly Option<string> NodeId = CliOptions.Text("--node-id", "this agent's node id (default: sender-PID)");
    private static readonly Option<int> ConnectTimeout = CliOptions.Int("--connect-timeout", "seconds to wait for the target to listen", 10, 1, 3600);
    private static readonly Option<FileInfo> SecretFile = TransferOptions.SecretFile();

    /// <summary>The command (internal: a peer of tests and measurements, not listed in help).</summary>
    public static Command Create()
    {
        var command = new Command("transfer-send", "transfer initiator: fills a region, writes it whole into the target's, prints one JSON line")
        {
            Peer, Mb, Backend, Checksum, Repeat, Ops, Seed, TargetRegion, NodeId, ConnectTimeout, SecretFile,
        };
        command.Hidden = true;
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var peer = parse.GetValue(Peer)!;
        var bytes = parse.GetValue(Mb) * 1024L * 1024;
        var backend = parse.GetValue(Backend);
        var checksum = parse.GetValue(Checksum) ? ChecksumKind.XxHash3 : ChecksumKind.None;
        var repeat = parse.GetValue(Repeat);
        var ops = parse.GetValue(Ops);
        var seed = (ulong)parse.GetValue(Seed);
        var targetRegion = parse.GetValue(TargetRegion)!;
        var nodeId = parse.GetValue(NodeId) ?? $"sender-{Environment.ProcessId}";
        var connectTimeout = TimeSpan.FromSeconds(parse.GetValue(ConnectTimeout));
        var secret = TransferOptions.ReadSecret(parse.GetValue(SecretFile));

        RegionFiles.RemoveStale();
        using var source = HostRegion.Create("src", bytes);
        for (long done = 0; done < bytes; done += 1 << 30)
        {
            TransferPattern.Fill(source.AsSpan(done, (int)Math.Min(1 << 30, bytes - done)), seed, done);
        }
        var sourceHash = TransferTargetCommand.Hash(source);
        await using var agent = new TransferAgent(new TransferAgentOptions { NodeId = nodeId, Backend = backend, ClusterSecret = secret, ConnectTimeout = connectTimeout });
        agent.RegisterRegion(source);
        await using var connection = await PeerTools.ConnectWhenListeningAsync(agent, peer, connectTimeout, CancellationToken.None);

        var opBytes = bytes / ops;
        var writes = Enumerable.Range(0, ops)
            .Select(i => new WriteOp("src", i * opBytes, targetRegion, i * opBytes, i == ops - 1 ? bytes - i * opBytes : opBytes))
            .ToArray();
        var runs = new List<double>();
        for (var run = 0; run < repeat; run++)
        {
            var started = Stopwatch.GetTimestamp();
            await connection.WriteAsync(new WriteBatch(writes, System.Text.Encoding.UTF8.GetBytes($"run {run}"), checksum), CancellationToken.None);
            runs.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        var best = runs.Min();
        TransferTargetCommand.Print(new
        {
            bytes,
            seconds = runs[0],
            gbps = Gbps(bytes, runs[0]),
            best_seconds = best,
            best_gbps = Gbps(bytes, best),
            runs = runs.Select(s => Math.Round(s, 6)).ToArray(),
            backend = connection.Backend,
            reason = connection.BackendReason,
            checksum = checksum == ChecksumKind.None ? "none" : "xxhash3",
            checksum_verified = checksum != ChecksumKind.None,
            source_xxhash3 = sourceHash,
        });
        return 0;
    }

    /// <summary>Gigabits per second, as iperf3 reports.</summary>
    public static double Gbps(long bytes, double seconds) => Math.Round(bytes * 8 / seconds / 1e9, 3);
}
