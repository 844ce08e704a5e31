using System.Net;
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
    public const string Help = "(internal) transfer initiator: --peer IP:PORT --mb N [--backend auto|shm|tcp|verbs] [--connect-timeout S] [--checksum] [--repeat R] [--ops K] [--seed S] [--secret-file F]";

    public static Task<int> RunAsync(string[] args) => TransferCliArgs.RunReportingErrorsAsync(args, RunCoreAsync);

    private static async Task<int> RunCoreAsync(string[] args)
    {
        var options = new TransferCliArgs(args, "--checksum");
        var peer = options.EndPoint("--peer");
        var bytes = options.Long("--mb", 256) * 1024 * 1024;
        var backend = Enum.Parse<BackendChoice>(options.String("--backend", "auto"), ignoreCase: true);
        var checksum = options.Flag("--checksum") ? ChecksumKind.XxHash3 : ChecksumKind.None;
        var repeat = (int)options.Long("--repeat", 1);
        var ops = (int)options.Long("--ops", 1);
        var seed = (ulong)options.Long("--seed", 1);
        var targetRegion = options.String("--target-region", "kv");
        var nodeId = options.String("--node-id", $"sender-{Environment.ProcessId}");
        var connectTimeout = TimeSpan.FromSeconds(options.Long("--connect-timeout", 10));
        var secret = options.Secret();
        options.EnsureAllRead();

        RegionFiles.RemoveStale();
        using var source = HostRegion.Create("src", bytes);
        for (long done = 0; done < bytes; done += 1 << 30)
        {
            TransferPattern.Fill(source.AsSpan(done, (int)Math.Min(1 << 30, bytes - done)), seed, done);
        }
        var sourceHash = TransferTargetCommand.Hash(source);
        await using var agent = new TransferAgent(new TransferAgentOptions { NodeId = nodeId, Backend = backend, ClusterSecret = secret, ConnectTimeout = connectTimeout });
        agent.RegisterRegion(source);
        await using var connection = await ConnectWhenListeningAsync(agent, peer, connectTimeout);

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

    /// <summary>
    /// Retries a refused connect until the timeout: the target may be a process still starting (slowly, in an
    /// emulated VM); any other failure is reported at once.
    /// </summary>
    private static async Task<PeerConnection> ConnectWhenListeningAsync(TransferAgent agent, EndPoint peer, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await agent.ConnectAsync(peer, CancellationToken.None);
            }
            catch (TransferException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
