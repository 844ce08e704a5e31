using System.CommandLine;
using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PdRdma.Hosting.CommandLine;
using PdRdma.Transport;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Backends.Verbs;

namespace PdRdma.Cli.Commands;

/// <summary>
/// Test tool (tests/Verbs, inside the Soft-RoCE VMs): the verbs backend moving device memory between two
/// <see cref="TransferAgent"/>s. Both sides hold a <see cref="DmaBufHostRegion"/> (host memory the kernel exports as a
/// dma-buf: udmabuf or vgem, the stand-in for GPU memory); the backend registers each through ibv_reg_dmabuf_mr or,
/// when that fails, host staging, and each side prints the path it got and why. The target prints the hash of its
/// region after the batch; the initiator prints the hash the target's region must have.
/// </summary>
public static class VerbsDmaBufPeerCommand
{
    private const long RegionBytes = 8 << 20;
    private const int Chunk = 64 << 10;
    private const int Writes = 32;
    private const byte Untouched = 0xEE;

    private static readonly Option<bool> Staged = CliOptions.Flag("--staged", "force host staging instead of ibv_reg_dmabuf_mr");
    private static readonly Option<int> TimeoutSeconds = CliOptions.Int("--timeout", "seconds before giving up", 300, 1, 86_400);

    /// <summary>The command (hidden: a test tool the VM tests run inside the guests).</summary>
    public static Command Create()
    {
        var command = new Command("verbs-dmabuf-peer", "(test tool) verbs with dma-buf regions between two agents") { Hidden = true };
        var listen = CliOptions.EndPoint("--listen", "where the target listens", required: true);
        var target = new Command("target", "the target: holds a dma-buf region, prints its hash after the batch") { listen, Staged, TimeoutSeconds };
        target.SetAction((parse, _) => RunAsync("target", parse.GetValue(listen)!, parse.GetValue(Staged), parse.GetValue(TimeoutSeconds)));
        var peer = CliOptions.EndPoint("--peer", "the target's address", required: true);
        var initiator = new Command("initiator", "the initiator: writes 32 scattered 64 KiB chunks with a checksum") { peer, Staged, TimeoutSeconds };
        initiator.SetAction((parse, _) => RunAsync("initiator", parse.GetValue(peer)!, parse.GetValue(Staged), parse.GetValue(TimeoutSeconds)));
        command.Subcommands.Add(target);
        command.Subcommands.Add(initiator);
        return command;
    }

    private static async Task<int> RunAsync(string role, IPEndPoint endpoint, bool staged, int timeoutSeconds)
    {
        var timeout = TimeSpan.FromSeconds(timeoutSeconds);
        var args = new[] { role };
        using var cts = new CancellationTokenSource(timeout);
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        try
        {
            return args[0] == "target"
                ? await TargetAsync(endpoint, staged, loggers, cts.Token)
                : await InitiatorAsync(endpoint, staged, loggers, cts.Token);
        }
        catch (TransferException ex)
        {
            Emit(new JsonObject { ["role"] = args[0], ["mode"] = "dmabuf", ["ok"] = false, ["code"] = ex.Code.ToString(), ["error"] = ex.Detail });
            return 1;
        }
    }

    private static async Task<int> TargetAsync(IPEndPoint listen, bool staged, ILoggerFactory loggers, CancellationToken ct)
    {
        using var region = DmaBufHostRegion.Create("kv", RegionBytes);
        region.Span(0, (int)RegionBytes).Fill(Untouched);
        var backend = new VerbsBackend(new VerbsOptions { DeviceMemoryStaged = staged }, loggers.CreateLogger("PdRdma.Verbs"));
        await using var agent = new TransferAgent(new TransferAgentOptions
        {
            NodeId = "dmabuf-target", Listen = listen, Backend = BackendChoice.Verbs, Backends = [backend], LoggerFactory = loggers, HandshakeTimeout = TimeSpan.FromSeconds(120),
        });
        agent.RegisterRegion(region);
        var path = backend.PathOf(region, out var reason);
        await agent.StartAsync(ct);
        Emit(new JsonObject { ["role"] = "target", ["event"] = "listening", ["source"] = region.Source, ["path"] = path.ToString(), ["reason"] = reason });
        var note = await agent.Notifications.ReadAsync(ct);
        Emit(new JsonObject
        {
            ["role"] = "target", ["mode"] = "dmabuf", ["event"] = "notified", ["bytes"] = note.Bytes, ["payload"] = Encoding.UTF8.GetString(note.Payload),
            ["path"] = path.ToString(), ["reason"] = reason, ["region_xxhash128"] = Convert.ToHexString(XxHash128.Hash(region.Span(0, (int)RegionBytes))),
        });
        return 0;
    }

    private static async Task<int> InitiatorAsync(IPEndPoint peer, bool staged, ILoggerFactory loggers, CancellationToken ct)
    {
        using var source = DmaBufHostRegion.Create("src", RegionBytes);
        new Random(42).NextBytes(source.Span(0, (int)RegionBytes));
        var backend = new VerbsBackend(new VerbsOptions { DeviceMemoryStaged = staged }, loggers.CreateLogger("PdRdma.Verbs"));
        await using var agent = new TransferAgent(new TransferAgentOptions
        {
            NodeId = "dmabuf-initiator", Backend = BackendChoice.Verbs, Backends = [backend], LoggerFactory = loggers, ConnectTimeout = TimeSpan.FromSeconds(120),
        });
        agent.RegisterRegion(source);
        var path = backend.PathOf(source, out var reason);

        var expected = new byte[RegionBytes];
        expected.AsSpan().Fill(Untouched);
        var ops = new List<WriteOp>();
        for (int i = 0; i < Writes; i++)
        {
            long from = (long)i * 3 * Chunk, to = (long)((i * 5 + 1) % (RegionBytes / Chunk)) * Chunk;
            ops.Add(new WriteOp("src", from, "kv", to, Chunk));
            source.Span(from, Chunk).CopyTo(expected.AsSpan((int)to, Chunk));
        }
        await using var connection = await PeerTools.ConnectWhenListeningAsync(agent, peer, timeout: null, ct);
        await connection.WriteAsync(new WriteBatch(ops, Encoding.UTF8.GetBytes("dmabuf"), ChecksumKind.XxHash3), ct);
        Emit(new JsonObject
        {
            ["role"] = "initiator", ["mode"] = "dmabuf", ["ok"] = true, ["backend"] = connection.Backend, ["source"] = source.Source,
            ["path"] = path.ToString(), ["reason"] = reason, ["writes"] = Writes, ["bytes"] = (long)Writes * Chunk,
            ["checksum_verified"] = true, ["expected_xxhash128"] = Convert.ToHexString(XxHash128.Hash(expected)),
        });
        return 0;
    }

    private static void Emit(JsonObject result) => PeerTools.Emit(result);
}
