using System.CommandLine;
using PdRdma.Hosting.CommandLine;
using System.Diagnostics;
using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using MessagePack;
using PdRdma.Transport;
using PdRdma.Transport.Backends.Verbs;

namespace PdRdma.Cli.Commands;

/// <summary>
/// Test tool for the verbs backend (used by tests/Verbs and perf/verbs inside the Soft-RoCE VMs):
/// `verbs-peer target --listen IP:PORT --mode kv|oob|bench|grant` and
/// `verbs-peer initiator --connect IP:PORT --mode kv|oob|bench|grant`. The two exchange connection data and
/// checks over a TCP control link and the initiator prints one JSON result line per check.
/// </summary>
public static class VerbsPeerCommand
{
    private const byte Untouched = 0xEE;
    private static readonly KvLayout SourceLayout = new(layers: 16, kvHeads: 8, headDim: 128, tokensPerBlock: 16, KvDType.BFloat16, blocks: 64);
    private static readonly KvLayout TargetLayout = new(layers: 16, kvHeads: 8, headDim: 128, tokensPerBlock: 16, KvDType.BFloat16, blocks: 96);
    private const long OobRegionBytes = 8 << 20;
    private const long OobGrantBytes = 4 << 20;
    private const long BenchBytes = 4 << 20;

    private sealed record PeerOptions(IPEndPoint? Connect2, long MaxSize, long Volume);

    private static readonly Option<string> Mode = new("--mode") { Description = "what to check", HelpName = "kv|oob|lost|bench|grant", DefaultValueFactory = _ => "kv" };
    private static readonly Option<int> Timeout = CliOptions.Int("--timeout", "seconds the whole check may take", 300, 1, 24 * 3600);
    private static readonly Option<IPEndPoint> Listen = CliOptions.EndPoint("--listen", "where the target's control link listens", required: true);
    private static readonly Option<IPEndPoint> Connect = CliOptions.EndPoint("--connect", "the target's control link", required: true);
    private static readonly Option<IPEndPoint> Connect2 = CliOptions.EndPoint("--connect2", "a second target (mode lost)", required: false);
    private static readonly Option<long> MaxSize = CliOptions.Bytes("--max-size", "largest message of mode bench", BenchBytes);
    private static readonly Option<long> Volume = CliOptions.Bytes("--volume", "bytes written per message size in mode bench", 16L << 20);

    /// <summary>The command (internal: the test tool of tests/Verbs and perf/verbs inside the Soft-RoCE VMs, not listed in help).</summary>
    public static Command Create()
    {
        Mode.AcceptOnlyFromAmong("kv", "oob", "lost", "bench", "grant");
        var target = new Command("target", "registers a region, serves the initiator's checks over the control link") { Listen, Mode, Timeout };
        target.SetAction((parse, _) => RunAsync("target", parse.GetValue(Mode)!, parse.GetValue(Timeout), ct => TargetAsync(parse.GetValue(Listen)!, parse.GetValue(Mode)!, ct)));
        var initiator = new Command("initiator", "connects, writes, prints one JSON result line per check") { Connect, Connect2, Mode, Timeout, MaxSize, Volume };
        initiator.SetAction((parse, _) => RunAsync("initiator", parse.GetValue(Mode)!, parse.GetValue(Timeout), ct => InitiatorAsync(parse.GetValue(Connect)!, parse.GetValue(Mode)!,
            new PeerOptions(parse.GetValue(Connect2), parse.GetValue(MaxSize), parse.GetValue(Volume)), ct)));
        var command = new Command("verbs-peer", "verbs backend peer of the VM tests") { target, initiator };
        command.Hidden = true;
        return command;
    }

    private static async Task<int> RunAsync(string role, string mode, int timeoutSeconds, Func<CancellationToken, Task<int>> run)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            return await run(cts.Token);
        }
        catch (TransferException ex)
        {
            Emit(new JsonObject { ["role"] = role, ["mode"] = mode, ["ok"] = false, ["code"] = ex.Code.ToString(), ["error"] = ex.Detail });
            return 1;
        }
    }

    private static async Task<int> TargetAsync(IPEndPoint listen, string mode, CancellationToken ct)
    {
        if (mode == "grant") return await GrantTargetAsync(listen, ct);
        long regionBytes = mode switch { "kv" => TargetLayout.TotalBytes, "oob" => OobRegionBytes, _ => BenchBytes };
        long grantBytes = mode == "oob" ? OobGrantBytes : regionBytes;
        using var region = HostRegion.Create("kv", regionBytes);
        Fill(region, Untouched);
        using var device = VerbsDevice.Open();
        using var grant = device.Register(region, 0, grantBytes, "kv");

        using var listener = new TcpListener(listen);
        listener.Start();
        Console.Error.WriteLine($"verbs-peer target: listening on {listen}, region {regionBytes} bytes, window {grantBytes} bytes on {device.Name}");
        using var client = await listener.AcceptTcpClientAsync(ct);
        using var link = new ControlLink(client.GetStream());
        var remote = link.ReadInfo(await link.ReadAsync(ct));
        await using var endpoint = device.CreateEndpoint("initiator");
        await link.WriteAsync(new JsonObject { ["info"] = ControlLink.EncodeInfo(endpoint.LocalInfo([grant])) }, ct);
        endpoint.Connect(remote);

        var received = new JsonArray();
        while (true)
        {
            var command = await link.ReadAsync(ct);
            switch ((string?)command["cmd"])
            {
                case "hash":
                    int expect = (int)command["expect"]!;
                    while (received.Count < expect)
                    {
                        var n = await endpoint.Notifications.ReadAsync(ct);
                        received.Add(new JsonObject { ["bytes"] = n.Bytes, ["payload"] = Encoding.UTF8.GetString(n.Payload) });
                    }
                    await link.WriteAsync(new JsonObject { ["hash"] = Hash(region), ["notifications"] = received.DeepClone() }, ct);
                    break;
                case "bye":
                    return 0;
                default:
                    throw new TransferException(TransferErrorCode.Protocol, $"unknown control command {command.ToJsonString()}");
            }
        }
    }

    private static async Task<int> InitiatorAsync(IPEndPoint target, string mode, PeerOptions opts, CancellationToken ct)
    {
        long sourceBytes = mode switch { "kv" => SourceLayout.TotalBytes, "oob" => OobRegionBytes, _ => BenchBytes };
        using var source = HostRegion.Create("src", sourceBytes);
        FillRandom(source, seed: 42);
        using var device = VerbsDevice.Open();
        using var registration = device.Register(source);
        if (mode == "grant") return await GrantWindowsAsync(device, registration, source, target, ct) ? 0 : 1;
        if (mode == "lost")
            return await LostPeerAsync(device, registration, source, target, opts.Connect2 ?? throw new UsageException("--mode lost needs --connect2 IP:PORT"), ct) ? 0 : 1;

        using var client = await ConnectWithRetryAsync(target, ct);
        using var link = new ControlLink(client.GetStream());
        await using var endpoint = device.CreateEndpoint("target");
        await link.WriteAsync(new JsonObject { ["info"] = ControlLink.EncodeInfo(endpoint.LocalInfo([])) }, ct);
        var remote = link.ReadInfo(await link.ReadAsync(ct));
        if (mode == "oob")
        {
            // Act as a faulty initiator that ignores the window it was granted: only the target's NIC stands in the way.
            remote = remote with { Regions = [remote.Regions[0] with { Length = OobRegionBytes }] };
        }
        endpoint.Connect(remote);

        bool ok = mode switch
        {
            "kv" => await KvAsync(endpoint, registration, source, link, ct),
            "oob" => await OutOfWindowAsync(endpoint, registration, source, link, ct),
            "bench" => await BenchAsync(endpoint, registration, opts, ct),
            _ => throw new ArgumentException($"unknown mode '{mode}'"),
        };
        await link.WriteAsync(new JsonObject { ["cmd"] = "bye" }, ct);
        return ok ? 0 : 1;
    }

    /// <summary>Every (layer, K|V, block) of a 64-block source pool into scattered blocks of a 96-block target pool, one batch.</summary>
    private static async Task<bool> KvAsync(VerbsEndpoint endpoint, VerbsRegistration registration, HostRegion source, ControlLink link, CancellationToken ct)
    {
        var writes = new List<VerbsWrite>();
        var expected = new byte[TargetLayout.TotalBytes];
        expected.AsSpan().Fill(Untouched);
        for (int layer = 0; layer < SourceLayout.Layers; layer++)
        foreach (var part in new[] { KvPart.Key, KvPart.Value })
        for (int block = 0; block < SourceLayout.Blocks; block++)
        {
            var from = SourceLayout.Extent(layer, part, block);
            var to = TargetLayout.Extent(layer, part, (block * 5 + 1) % TargetLayout.Blocks);
            writes.Add(new VerbsWrite(registration, from.Offset, "kv", to.Offset, from.Length));
            source.AsSpan(from.Offset, (int)from.Length).CopyTo(expected.AsSpan((int)to.Offset, (int)to.Length));
        }
        string payload = $"kv layers={SourceLayout.Layers} blocks={SourceLayout.Blocks}";
        var watch = Stopwatch.StartNew();
        await endpoint.WriteAsync(writes, Encoding.UTF8.GetBytes(payload), ct);
        double seconds = watch.Elapsed.TotalSeconds;

        await link.WriteAsync(new JsonObject { ["cmd"] = "hash", ["expect"] = 1 }, ct);
        var reply = await link.ReadAsync(ct);
        var notification = reply["notifications"]![0]!;
        bool hashOk = (string?)reply["hash"] == Hash(expected);
        bool notificationOk = (string?)notification["payload"] == payload && (long)notification["bytes"]! == SourceLayout.TotalBytes;
        Emit(new JsonObject
        {
            ["role"] = "initiator", ["mode"] = "kv", ["ok"] = hashOk && notificationOk, ["writes"] = writes.Count,
            ["bytes"] = SourceLayout.TotalBytes, ["seconds"] = seconds, ["gbps"] = SourceLayout.TotalBytes * 8 / seconds / 1e9,
            ["identical"] = hashOk, ["notification_ok"] = notificationOk, ["notification"] = notification.DeepClone(),
        });
        return hashOk && notificationOk;
    }

    /// <summary>A write inside the granted window succeeds; one outside it must fail with AccessDenied and change nothing.</summary>
    private static async Task<bool> OutOfWindowAsync(VerbsEndpoint endpoint, VerbsRegistration registration, HostRegion source, ControlLink link, CancellationToken ct)
    {
        const int chunk = 64 << 10;
        var expected = new byte[OobRegionBytes];
        expected.AsSpan().Fill(Untouched);
        await endpoint.WriteAsync([new VerbsWrite(registration, 0, "kv", 0, chunk)], null, ct);
        source.AsSpan(0, chunk).CopyTo(expected);

        string outcome = "succeeded";
        try
        {
            await endpoint.WriteAsync([new VerbsWrite(registration, chunk, "kv", OobGrantBytes + (1 << 20), chunk)], null, ct);
        }
        catch (TransferException ex)
        {
            outcome = ex.Code.ToString();
            Console.Error.WriteLine($"verbs-peer initiator: out-of-window write: {ex.Message}");
        }

        string after = "succeeded";
        try
        {
            await endpoint.WriteAsync([new VerbsWrite(registration, 0, "kv", 0, chunk)], null, ct);
        }
        catch (TransferException ex)
        {
            after = ex.Code.ToString();
        }

        await link.WriteAsync(new JsonObject { ["cmd"] = "hash", ["expect"] = 0 }, ct);
        var reply = await link.ReadAsync(ct);
        bool unchanged = (string?)reply["hash"] == Hash(expected);
        bool ok = outcome == nameof(TransferErrorCode.AccessDenied) && unchanged;
        Emit(new JsonObject
        {
            ["role"] = "initiator", ["mode"] = "oob", ["ok"] = ok, ["out_of_window_write"] = outcome,
            ["target_unchanged"] = unchanged, ["write_after_failure"] = after, ["failure"] = endpoint.Failure?.Message,
        });
        return ok;
    }

    /// <summary>
    /// Two peers; the first exits (its process and queue pair are gone): writes to it fail with PeerLost,
    /// the second peer keeps working and its memory holds exactly what was written.
    /// </summary>
    private static async Task<bool> LostPeerAsync(VerbsDevice device, VerbsRegistration registration, HostRegion source, IPEndPoint first, IPEndPoint second, CancellationToken ct)
    {
        const int chunk = 64 << 10;
        var (client1, link1, lost) = await ConnectAsync(device, first, "first", ct);
        var (client2, link2, survivor) = await ConnectAsync(device, second, "second", ct);
        using (client1)
        using (client2)
        using (link1)
        using (link2)
        await using (lost)
        await using (survivor)
        {
            await lost.WriteAsync([new VerbsWrite(registration, 0, "kv", 0, chunk)], null, ct);
            await survivor.WriteAsync([new VerbsWrite(registration, 0, "kv", 0, chunk)], null, ct);

            Console.Error.WriteLine("verbs-peer initiator: both peers written; telling the first to exit");
            await link1.WriteAsync(new JsonObject { ["cmd"] = "bye" }, ct);
            try { await link1.ReadAsync(ct); } catch (TransferException) { } // returns when the first peer's process closed the link
            Console.Error.WriteLine("verbs-peer initiator: the first peer is gone; writing to it");

            var watch = Stopwatch.StartNew();
            string outcome = "succeeded";
            try
            {
                await lost.WriteAsync([new VerbsWrite(registration, chunk, "kv", chunk, chunk)], null, ct);
            }
            catch (TransferException ex)
            {
                outcome = ex.Code.ToString();
                Console.Error.WriteLine($"verbs-peer initiator: write to the lost peer: {ex.Message}");
            }
            double detectSeconds = watch.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"verbs-peer initiator: write to the lost peer: {outcome} after {detectSeconds:F1} s; writing to the second");

            await survivor.WriteAsync([new VerbsWrite(registration, chunk, "kv", chunk, chunk)], "after"u8.ToArray(), ct);
            var expected = new byte[BenchBytes];
            expected.AsSpan().Fill(Untouched);
            source.AsSpan(0, 2 * chunk).CopyTo(expected);
            await link2.WriteAsync(new JsonObject { ["cmd"] = "hash", ["expect"] = 1 }, ct);
            var reply = await link2.ReadAsync(ct);
            bool survivorOk = (string?)reply["hash"] == Hash(expected);
            await link2.WriteAsync(new JsonObject { ["cmd"] = "bye" }, ct);
            bool ok = outcome == nameof(TransferErrorCode.PeerLost) && survivorOk;
            Emit(new JsonObject
            {
                ["role"] = "initiator", ["mode"] = "lost", ["ok"] = ok, ["write_to_lost_peer"] = outcome,
                ["detected_seconds"] = detectSeconds, ["survivor_ok"] = survivorOk,
            });
            return ok;
        }
    }

    /// <summary>
    /// Target of mode grant: one region, several control connections in sequence, each with its own queue pair; per
    /// connection the initiator asks for memory windows (bind), revokes them, and asks for the region's hash.
    /// </summary>
    private static async Task<int> GrantTargetAsync(IPEndPoint listen, CancellationToken ct)
    {
        using var region = HostRegion.Create("kv", OobRegionBytes);
        Fill(region, Untouched);
        using var device = VerbsDevice.Open();
        using var registration = device.Register(region, 0, OobRegionBytes, "kv");
        using var listener = new TcpListener(listen);
        listener.Start();
        Console.Error.WriteLine($"verbs-peer target: listening on {listen}, mode grant, memory windows: {device.MemoryWindows} {device.MemoryWindowsReason}");
        while (true)
        {
            using var client = await listener.AcceptTcpClientAsync(ct);
            using var link = new ControlLink(client.GetStream());
            var remote = link.ReadInfo(await link.ReadAsync(ct));
            await using var endpoint = device.CreateEndpoint("initiator");
            await link.WriteAsync(new JsonObject { ["info"] = ControlLink.EncodeInfo(endpoint.LocalInfo([registration])) }, ct);
            endpoint.Connect(remote);
            var windows = new Dictionary<string, VerbsWindowSet>(StringComparer.Ordinal);
            var received = new JsonArray();
            try
            {
                while (true)
                {
                    var command = await link.ReadAsync(ct);
                    switch ((string?)command["cmd"])
                    {
                        case "bind":
                            try
                            {
                                var set = await endpoint.BindWindowsAsync([new VerbsWindowRequest(registration, (long)command["offset"]!, (long)command["length"]!)], ct);
                                windows[(string)command["id"]!] = set;
                                await link.WriteAsync(new JsonObject { ["ok"] = true, ["key"] = set.Windows[0].RemoteKey }, ct);
                            }
                            catch (TransferException ex)
                            {
                                await link.WriteAsync(new JsonObject { ["ok"] = false, ["code"] = ex.Code.ToString(), ["error"] = ex.Detail }, ct);
                            }
                            break;
                        case "revoke":
                            if (windows.Remove((string)command["id"]!, out var revoked)) revoked.Dispose();
                            await link.WriteAsync(new JsonObject { ["ok"] = true }, ct);
                            break;
                        case "hash":
                            int expect = (int)command["expect"]!;
                            while (received.Count < expect)
                            {
                                var n = await endpoint.Notifications.ReadAsync(ct);
                                received.Add(new JsonObject { ["bytes"] = n.Bytes, ["immediate"] = n.Immediate, ["payload"] = Encoding.UTF8.GetString(n.Payload) });
                            }
                            await link.WriteAsync(new JsonObject { ["hash"] = Hash(region), ["notifications"] = received.DeepClone() }, ct);
                            break;
                        case "bye":
                            goto next;
                        case "done":
                            return 0;
                        default:
                            throw new TransferException(TransferErrorCode.Protocol, $"unknown control command {command.ToJsonString()}");
                    }
                }
            }
            finally
            {
                foreach (var set in windows.Values) set.Dispose();
            }
        next:;
        }
    }

    /// <summary>
    /// Grants enforced by the target's NIC with type-2 memory windows. Session 1: a batch of 16 scattered 64 KiB blocks
    /// under window A lands bit-identically with its WRITE_WITH_IMM notification; A is revoked, and the same write again
    /// is refused (AccessDenied) and changes nothing. Session 2 (a fresh queue pair): windows A and B (another request's
    /// blocks); a write with A's key into B's blocks is refused and changes nothing.
    /// </summary>
    private static async Task<bool> GrantWindowsAsync(VerbsDevice device, VerbsRegistration registration, HostRegion source, IPEndPoint target, CancellationToken ct)
    {
        const int block = 64 << 10;
        const uint immediate = 0xC0FFEE;
        var expected = new byte[OobRegionBytes];
        expected.AsSpan().Fill(Untouched);
        var result = new JsonObject { ["role"] = "initiator", ["mode"] = "grant", ["memory_windows"] = device.MemoryWindows, ["memory_windows_reason"] = device.MemoryWindowsReason };

        async Task<string> TryWrite(VerbsEndpoint endpoint, List<VerbsWrite> writes)
        {
            try
            {
                await endpoint.WriteAsync(writes, immediate + 1, ct);
                return "succeeded";
            }
            catch (TransferException ex)
            {
                Console.Error.WriteLine($"verbs-peer initiator: {ex.Message}");
                return ex.Code.ToString();
            }
        }

        async Task<uint?> Bind(ControlLink link, string id, long offset, long length)
        {
            await link.WriteAsync(new JsonObject { ["cmd"] = "bind", ["id"] = id, ["offset"] = offset, ["length"] = length }, ct);
            var reply = await link.ReadAsync(ct);
            if ((bool)reply["ok"]!) return (uint)reply["key"]!;
            result[$"bind_{id}_error"] = $"{reply["code"]}: {reply["error"]}";
            return null;
        }

        // session 1
        var (client1, link1, first) = await ConnectAsync(device, target, "grant-1", ct);
        using (client1)
        using (link1)
        await using (first)
        {
            if (await Bind(link1, "a", 0, 1 << 20) is not { } keyA)
            {
                Emit(result);
                await link1.WriteAsync(new JsonObject { ["cmd"] = "done" }, ct);
                return false;
            }
            var writes = new List<VerbsWrite>();
            for (int i = 0; i < 16; i++)
            {
                long to = (i * 5 % 16) * (long)block;
                writes.Add(new VerbsWrite(registration, (long)i * block, "kv", to, block, keyA));
                source.AsSpan((long)i * block, block).CopyTo(expected.AsSpan((int)to, block));
            }
            await first.WriteAsync(writes, immediate, ct);
            await link1.WriteAsync(new JsonObject { ["cmd"] = "hash", ["expect"] = 1 }, ct);
            var reply = await link1.ReadAsync(ct);
            result["window_batch_identical"] = (string?)reply["hash"] == Hash(expected);
            result["window_batch_immediate_ok"] = (uint?)reply["notifications"]![0]!["immediate"] == immediate;

            await link1.WriteAsync(new JsonObject { ["cmd"] = "revoke", ["id"] = "a" }, ct);
            await link1.ReadAsync(ct);
            result["write_after_revoke"] = await TryWrite(first, [new VerbsWrite(registration, 1 << 20, "kv", 0, block, keyA)]);
            await link1.WriteAsync(new JsonObject { ["cmd"] = "hash", ["expect"] = 1 }, ct);
            result["unchanged_after_revoke"] = (string?)(await link1.ReadAsync(ct))["hash"] == Hash(expected);
            await link1.WriteAsync(new JsonObject { ["cmd"] = "bye" }, ct);
        }

        // session 2
        var (client2, link2, second) = await ConnectAsync(device, target, "grant-2", ct);
        using (client2)
        using (link2)
        await using (second)
        {
            var keyA = await Bind(link2, "a", 0, 1 << 20);
            var keyB = await Bind(link2, "b", 2 << 20, 1 << 20);
            result["write_into_other_grant"] = keyA is { } a && keyB is not null
                ? await TryWrite(second, [new VerbsWrite(registration, 2 << 20, "kv", 2 << 20, block, a)])
                : "no windows";
            await link2.WriteAsync(new JsonObject { ["cmd"] = "hash", ["expect"] = 0 }, ct);
            result["unchanged_after_other_grant"] = (string?)(await link2.ReadAsync(ct))["hash"] == Hash(expected);
            await link2.WriteAsync(new JsonObject { ["cmd"] = "done" }, ct);
        }

        bool ok = result["window_batch_identical"]?.GetValue<bool>() == true && result["window_batch_immediate_ok"]?.GetValue<bool>() == true
            && (string?)result["write_after_revoke"] == nameof(TransferErrorCode.AccessDenied) && result["unchanged_after_revoke"]?.GetValue<bool>() == true
            && (string?)result["write_into_other_grant"] == nameof(TransferErrorCode.AccessDenied) && result["unchanged_after_other_grant"]?.GetValue<bool>() == true;
        result["ok"] = ok;
        Emit(result);
        return ok;
    }

    /// <summary>Waits up to two minutes for a target that may still be starting (slowly, in an emulated VM).</summary>
    private static async Task<TcpClient> ConnectWithRetryAsync(IPEndPoint target, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            // A socket whose connect failed cannot connect again: a fresh client per attempt.
            var client = new TcpClient();
            try
            {
                await client.ConnectAsync(target, ct);
                return client;
            }
            catch (SocketException) when (attempt < 600)
            {
                client.Dispose();
                await Task.Delay(200, ct);
            }
        }
    }

    private static async Task<(TcpClient, ControlLink, VerbsEndpoint)> ConnectAsync(VerbsDevice device, IPEndPoint target, string name, CancellationToken ct)
    {
        var client = await ConnectWithRetryAsync(target, ct);
        var link = new ControlLink(client.GetStream());
        var endpoint = device.CreateEndpoint(name);
        await link.WriteAsync(new JsonObject { ["info"] = ControlLink.EncodeInfo(endpoint.LocalInfo([])) }, ct);
        endpoint.Connect(link.ReadInfo(await link.ReadAsync(ct)));
        return (client, link, endpoint);
    }

    /// <summary>Bandwidth (a batch of back-to-back writes) and latency (one awaited write) per message size.</summary>
    private static async Task<bool> BenchAsync(VerbsEndpoint endpoint, VerbsRegistration registration, PeerOptions opts, CancellationToken ct)
    {
        long maxSize = opts.MaxSize;
        long volume = opts.Volume;
        for (long size = 64; size <= maxSize; size *= 2)
        {
            int iterations = (int)Math.Clamp(volume / size, 8, 1000);
            var writes = Enumerable.Repeat(new VerbsWrite(registration, 0, "kv", 0, size), iterations).ToList();
            await endpoint.WriteAsync(writes.Take(8).ToList(), null, ct); // warm-up
            var watch = Stopwatch.StartNew();
            await endpoint.WriteAsync(writes, null, ct);
            double seconds = watch.Elapsed.TotalSeconds;

            int latencyRuns = size >= (1 << 20) ? 10 : 50;
            var samples = new double[latencyRuns];
            var one = new List<VerbsWrite> { new(registration, 0, "kv", 0, size) };
            for (int i = 0; i < latencyRuns; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await endpoint.WriteAsync(one, null, ct);
                samples[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
            }
            Array.Sort(samples);
            Emit(new JsonObject
            {
                ["role"] = "initiator", ["mode"] = "bench", ["ok"] = true, ["bytes"] = size, ["iterations"] = iterations,
                ["mb_per_s"] = size * (double)iterations / seconds / 1e6, ["write_completion_us_median"] = samples[latencyRuns / 2],
            });
        }
        return true;
    }

    private static void Fill(HostRegion region, byte value)
    {
        for (long offset = 0; offset < region.Length; offset += 1 << 20)
            region.AsSpan(offset, (int)Math.Min(1 << 20, region.Length - offset)).Fill(value);
    }

    private static void FillRandom(HostRegion region, int seed)
    {
        var random = new Random(seed);
        for (long offset = 0; offset < region.Length; offset += 1 << 20)
            random.NextBytes(region.AsSpan(offset, (int)Math.Min(1 << 20, region.Length - offset)));
    }

    private static string Hash(HostRegion region)
    {
        var hash = new XxHash128();
        for (long offset = 0; offset < region.Length; offset += 1 << 20)
            hash.Append(region.AsSpan(offset, (int)Math.Min(1 << 20, region.Length - offset)));
        return Convert.ToHexString(hash.GetCurrentHash());
    }

    private static string Hash(byte[] bytes) => Convert.ToHexString(XxHash128.Hash(bytes));

    private static void Emit(JsonObject result) => PeerTools.Emit(result);

    /// <summary>JSON lines over the TCP control link; the verbs connection data travels as base64 MessagePack.</summary>
    private sealed class ControlLink(NetworkStream stream) : IDisposable
    {
        private readonly StreamReader _reader = new(stream, Encoding.UTF8, leaveOpen: true);
        private readonly StreamWriter _writer = new(stream, new UTF8Encoding(false), leaveOpen: true) { AutoFlush = true };

        public async Task<JsonNode> ReadAsync(CancellationToken ct)
        {
            string? line = await _reader.ReadLineAsync(ct);
            return line is null
                ? throw new TransferException(TransferErrorCode.PeerLost, "the control link closed")
                : JsonNode.Parse(line) ?? throw new TransferException(TransferErrorCode.Protocol, "empty control message");
        }

        public async Task WriteAsync(JsonObject message, CancellationToken ct) => await _writer.WriteLineAsync(message.ToJsonString().AsMemory(), ct);

        public static string EncodeInfo(VerbsConnectionInfo info) => Convert.ToBase64String(MessagePackSerializer.Serialize(info));

        public VerbsConnectionInfo ReadInfo(JsonNode message) =>
            MessagePackSerializer.Deserialize<VerbsConnectionInfo>(Convert.FromBase64String((string)message["info"]!),
                MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData));

        public void Dispose()
        {
            _reader.Dispose();
            _writer.Dispose();
        }
    }
}
