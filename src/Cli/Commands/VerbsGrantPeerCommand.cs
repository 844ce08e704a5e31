using System.CommandLine;
using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PdRdma.Hosting.CommandLine;
using PdRdma.Transport;
using PdRdma.Transport.Backends.Verbs;

namespace PdRdma.Cli.Commands;

/// <summary>
/// Test tool (tests/Verbs, inside the Soft-RoCE VMs): grants between two <see cref="TransferAgent"/>s on verbs, the way the
/// daemon uses them. The target's authorizer holds three grants for the initiator (r1, r2, r3: 1 MiB each, apart); the
/// initiator writes under r1 (the grant window is opened once, the batch goes without a proceed), has the target release
/// r1 (a notification under r2; the target answers through a file in the shared folder), writes under r1 again with the
/// window it still holds (the target's NIC must refuse it: AccessDenied), then on a fresh connection writes under r2 into
/// r3's blocks (refused), and finally compares the target's region with what it must hold. With --no-windows both sides
/// run as on a device without memory windows: the same batches, validated one by one at the target (the late write and
/// the foreign write are refused there, before any byte moves).
/// </summary>
public static class VerbsGrantPeerCommand
{
    private const long RegionBytes = 8 << 20;
    private const int Block = 64 << 10;
    private const byte Untouched = 0xEE;
    private const string InitiatorId = "grant-initiator";
    private static readonly (string Name, long Offset)[] Grants = [("r1", 0), ("r2", 2 << 20), ("r3", 4 << 20)];

    private static readonly Option<int> TimeoutSeconds = CliOptions.Int("--timeout", "seconds before giving up", 400, 1, 86_400);
    private static readonly Option<bool> NoWindows = CliOptions.Flag("--no-windows", "as on a device without memory windows (VerbsOptions.MemoryWindows = false): per-batch validation");
    private static readonly Option<string> Shared = CliOptions.Text("--shared", "a folder both sides see (the VMs' $PDRDMA_VM_OUT)", helpName: "DIR");

    /// <summary>The command (hidden: a test tool the VM tests run inside the guests).</summary>
    public static Command Create()
    {
        var command = new Command("verbs-grant-peer", "(test tool) grants enforced by memory windows between two agents") { Hidden = true };
        var listen = CliOptions.EndPoint("--listen", "where the target listens", required: true);
        var target = new Command("target", "holds the region and the grants") { listen, Shared, TimeoutSeconds, NoWindows };
        target.SetAction((parse, _) => RunAsync("target", parse.GetValue(TimeoutSeconds), ct => TargetAsync(parse.GetValue(listen)!, Folder(parse), Options(parse), ct)));
        var peer = CliOptions.EndPoint("--peer", "the target's address", required: true);
        var initiator = new Command("initiator", "writes under the grants, prints one JSON result line") { peer, Shared, TimeoutSeconds, NoWindows };
        initiator.SetAction((parse, _) => RunAsync("initiator", parse.GetValue(TimeoutSeconds), ct => InitiatorAsync(parse.GetValue(peer)!, Folder(parse), Options(parse), ct)));
        command.Subcommands.Add(target);
        command.Subcommands.Add(initiator);
        return command;
    }

    private static VerbsOptions Options(ParseResult parse) => new() { MemoryWindows = !parse.GetValue(NoWindows) };

    private static string Folder(ParseResult parse) =>
        Directory.CreateDirectory(parse.GetValue(Shared) ?? throw new UsageException("--shared DIR is required")).FullName;

    private static async Task<int> RunAsync(string role, int timeoutSeconds, Func<CancellationToken, Task<int>> run)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            return await run(cts.Token);
        }
        catch (TransferException ex)
        {
            Emit(new JsonObject { ["role"] = role, ["mode"] = "agent-grant", ["ok"] = false, ["code"] = ex.Code.ToString(), ["error"] = ex.Detail });
            return 1;
        }
    }

    /// <summary>Leases as the daemon keeps them, reduced: named grants of one peer, each over one run, until released.</summary>
    private sealed class Grantor : IWriteAuthorizer
    {
        private readonly Dictionary<string, (GrantExtent Extent, CancellationTokenSource Ended)> _grants =
            Grants.ToDictionary(g => g.Name, g => (new GrantExtent("kv", g.Offset, 1 << 20), new CancellationTokenSource()), StringComparer.Ordinal);

        public bool CanWrite(string peerNodeId, string regionId, long offset, long length) => false;

        public bool CanWrite(string peerNodeId, string? grant, string regionId, long offset, long length) =>
            peerNodeId == InitiatorId && grant is not null && _grants.TryGetValue(grant, out var g) && !g.Ended.IsCancellationRequested
            && g.Extent.Covers(regionId, offset, length);

        public GrantWindow? DescribeGrant(string peerNodeId, string grant) =>
            peerNodeId == InitiatorId && _grants.TryGetValue(grant, out var g) && !g.Ended.IsCancellationRequested
                ? new GrantWindow(grant, peerNodeId, [g.Extent], DateTimeOffset.UtcNow.AddMinutes(10), g.Ended.Token)
                : null;

        public void Release(string grant) => _grants[grant].Ended.Cancel();
    }

    private static async Task<int> TargetAsync(IPEndPoint listen, string shared, VerbsOptions options, CancellationToken ct)
    {
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        using var region = HostRegion.Create("kv", RegionBytes);
        region.AsSpan(0, (int)RegionBytes).Fill(Untouched);
        var grantor = new Grantor();
        var backend = new VerbsBackend(options, loggers.CreateLogger("PdRdma.Verbs"));
        await using var agent = new TransferAgent(new TransferAgentOptions
        {
            NodeId = "grant-target", Listen = listen, Backend = BackendChoice.Verbs, Backends = [backend], LoggerFactory = loggers,
            HandshakeTimeout = TimeSpan.FromSeconds(120), Authorizer = grantor,
        });
        agent.RegisterRegion(region);
        await agent.StartAsync(ct);
        Emit(new JsonObject { ["role"] = "target", ["event"] = "listening", ["grant_windows"] = backend.Capabilities.GrantWindows });
        while (true)
        {
            var note = await agent.Notifications.ReadAsync(ct);
            string text = Encoding.UTF8.GetString(note.Payload);
            if (text.StartsWith("release ", StringComparison.Ordinal))
            {
                grantor.Release(text["release ".Length..]);
                await File.WriteAllTextAsync(Path.Combine(shared, "released"), text, ct);
            }
            else if (text == "hash")
            {
                var hash = Convert.ToHexString(XxHash128.Hash(region.AsSpan(0, (int)RegionBytes)));
                Emit(new JsonObject { ["role"] = "target", ["mode"] = "agent-grant", ["event"] = "hash", ["region_xxhash128"] = hash });
                await File.WriteAllTextAsync(Path.Combine(shared, "hash"), hash, ct);
                return 0;
            }
        }
    }

    private static async Task<int> InitiatorAsync(IPEndPoint peer, string shared, VerbsOptions options, CancellationToken ct)
    {
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        using var source = HostRegion.Create("src", RegionBytes);
        new Random(42).NextBytes(source.AsSpan(0, (int)RegionBytes));
        var backend = new VerbsBackend(options, loggers.CreateLogger("PdRdma.Verbs"));
        await using var agent = new TransferAgent(new TransferAgentOptions
        {
            NodeId = InitiatorId, Backend = BackendChoice.Verbs, Backends = [backend], LoggerFactory = loggers, ConnectTimeout = TimeSpan.FromSeconds(120),
        });
        agent.RegisterRegion(source);
        var expected = new byte[RegionBytes];
        expected.AsSpan().Fill(Untouched);
        var result = new JsonObject { ["role"] = "initiator", ["mode"] = options.MemoryWindows ? "agent-grant" : "agent-grant-fallback", ["grant_windows"] = backend.Capabilities.GrantWindows };

        // 16 scattered blocks of a grant's MiB, from source bytes that differ per call
        int calls = 0;
        WriteBatch Batch(string grant, long at, string? notification = null, bool record = true)
        {
            var ops = new List<WriteOp>();
            long from = (long)(calls++ % 4) * (1 << 20);
            for (int i = 0; i < 16; i++)
            {
                long to = at + (i * 5 % 16) * (long)Block;
                ops.Add(new WriteOp("src", from + (long)i * Block, "kv", to, Block));
                if (record) source.AsSpan(from + (long)i * Block, Block).CopyTo(expected.AsSpan((int)to, Block));
            }
            return new WriteBatch(ops, notification is null ? null : Encoding.UTF8.GetBytes(notification), ChecksumKind.XxHash3, grant);
        }
        async Task<string> Try(PeerConnection connection, WriteBatch batch)
        {
            try
            {
                await connection.WriteAsync(batch, ct);
                return "succeeded";
            }
            catch (TransferException ex)
            {
                Console.Error.WriteLine($"verbs-grant-peer initiator: {ex.Code}: {ex.Detail}");
                return ex.Code.ToString();
            }
        }

        await using (var first = await PeerTools.ConnectWhenListeningAsync(agent, peer, timeout: null, ct))
        {
            result["backend"] = first.Backend;
            result["batch_under_grant"] = await Try(first, Batch("r1", 0));
            result["release_batch"] = await Try(first, Batch("r2", 2 << 20, "release r1"));
            var released = Path.Combine(shared, "released");
            while (!File.Exists(released)) await Task.Delay(100, ct);
            // the window of r1 is still live here: only the target's NIC stands in the way
            result["write_after_release"] = await Try(first, Batch("r1", 0, record: false));
        }
        await using (var second = await PeerTools.ConnectWhenListeningAsync(agent, peer, timeout: null, ct))
        {
            result["write_into_other_grant"] = await Try(second, Batch("r2", 4 << 20, record: false));
            result["final_batch"] = await Try(second, Batch("r3", 4 << 20, "hash"));
        }
        var hashFile = Path.Combine(shared, "hash");
        while (!File.Exists(hashFile)) await Task.Delay(100, ct);
        await Task.Delay(200, ct);
        bool identical = (await File.ReadAllTextAsync(hashFile, ct)).Trim() == Convert.ToHexString(XxHash128.Hash(expected));
        result["target_as_expected"] = identical;
        bool ok = (string?)result["batch_under_grant"] == "succeeded" && (string?)result["release_batch"] == "succeeded"
            && (string?)result["write_after_release"] == nameof(TransferErrorCode.AccessDenied)
            && (string?)result["write_into_other_grant"] == nameof(TransferErrorCode.AccessDenied)
            && (string?)result["final_batch"] == "succeeded" && identical;
        result["ok"] = ok;
        Emit(result);
        return ok ? 0 : 1;
    }

    private static void Emit(JsonObject result) => PeerTools.Emit(result);
}
