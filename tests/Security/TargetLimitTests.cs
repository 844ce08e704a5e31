using System.Net;
using System.Net.Sockets;
using MessagePack;
using PdRdma.Hosting.Network;
using PdRdma.Hosting.Processes;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Tests.Security;

/// <summary>Issue 11 item 5, target side: each limit refuses with a typed error and the target keeps serving.</summary>
public sealed class TargetLimitTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ABatchWithTooManyWritesIsRefusedAndTheConnectionKeepsWorking()
    {
        await using var pair = await AgentPair.StartAsync(target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, MaxWritesPerBatch = 16 });
        var before = TestBytes.Hash(pair.TargetRegion);
        await using var connection = await pair.ConnectAsync();
        var ops = Enumerable.Range(0, 17).Select(i => new WriteOp("src", i * 8192L, "kv", i * 8192L, 4096)).ToArray();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch(ops), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.PoolFull, ex.Code);
        Assert.Contains("at most 16", ex.Message);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await connection.WriteAsync(new WriteBatch(ops[..16]), CancellationToken.None).WaitAsync(Limit);
    }

    [Fact]
    public async Task BytesInFlightPerPeerAreBounded()
    {
        await using var pair = await AgentPair.StartAsync(target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, MaxBytesInFlightPerPeer = 1 << 20 });
        var before = TestBytes.Hash(pair.TargetRegion);
        await using var connection = await pair.ConnectAsync();
        var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 2 << 20)]), CancellationToken.None).WaitAsync(Limit));
        Assert.Equal(TransferErrorCode.PoolFull, ex.Code);
        Assert.Contains("in flight", ex.Message);
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 1 << 20)]), CancellationToken.None).WaitAsync(Limit);
    }

    [Fact]
    public async Task ConnectionsPerSourceAreBoundedWithATypedRefusal()
    {
        await using var pair = await AgentPair.StartAsync(target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, MaxConnectionsPerSource = 2 });
        using var one = await RawPeer.ConnectAsync(pair.Endpoint);
        using var two = await RawPeer.ConnectAsync(pair.Endpoint);
        await Task.Delay(200);
        using var three = await RawPeer.ConnectAsync(pair.Endpoint);
        var frames = await three.ReadUntilClosedAsync(Limit);
        var error = MessagePackSerializer.Deserialize<ErrorMessage>(Assert.Single(frames).Body, WireFormat.Options);
        Assert.Equal(TransferErrorCode.PoolFull, error.Code);
        Assert.Contains("per source", error.Message);
    }

    [Fact]
    public async Task AnAcceptedBatchNeverCommittedIsRefusedAtItsDeadlineAndItsLateBytesAreDrained()
    {
        await using var pair = await AgentPair.StartAsync(target: o => new TransferAgentOptions { NodeId = o.NodeId, Listen = o.Listen, BatchDeadline = TimeSpan.FromSeconds(1) });
        var before = TestBytes.Hash(pair.TargetRegion);
        using var raw = await RawPeer.ConnectAsync(pair.Endpoint);
        await RawHandshake.TcpAsync(raw);
        await raw.SendFrameAsync(MessageType.BatchBegin, new BatchBeginMessage { BatchId = 7, Writes = [new WireWrite { Region = "kv", Offset = 0, Length = 64 }], Notification = [1] });
        var answer = (await raw.ReadFrameAsync(Limit))!.Value;
        Assert.Equal(MessageType.Error, answer.Type);
        var error = MessagePackSerializer.Deserialize<ErrorMessage>(answer.Body, WireFormat.Options);
        Assert.Equal((7L, TransferErrorCode.Timeout), (error.BatchId, error.Code));
        // The batch's bytes, sent late, land nowhere; the connection still serves a fresh batch.
        await raw.SendFrameAsync(MessageType.DataChunk, new DataChunkMessage { BatchId = 7, WriteIndex = 0, OffsetInWrite = 0, Length = 64 });
        await raw.SendAsync(new byte[64]);
        await raw.SendFrameAsync(MessageType.Commit, new CommitMessage { BatchId = 7 });
        Assert.Equal(before, TestBytes.Hash(pair.TargetRegion));
        await raw.SendFrameAsync(MessageType.BatchBegin, new BatchBeginMessage { BatchId = 8, Writes = [new WireWrite { Region = "kv", Offset = 0, Length = 64 }] });
        await raw.SendFrameAsync(MessageType.DataChunk, new DataChunkMessage { BatchId = 8, WriteIndex = 0, OffsetInWrite = 0, Length = 64 });
        await raw.SendAsync(Enumerable.Repeat((byte)0xAB, 64).ToArray());
        await raw.SendFrameAsync(MessageType.Commit, new CommitMessage { BatchId = 8 });
        var done = (await raw.ReadFrameAsync(Limit))!.Value;
        Assert.Equal(MessageType.Done, done.Type);
        Assert.True(pair.TargetRegion.AsSpan(0, 64).IndexOfAnyExcept((byte)0xAB) < 0);
    }

    /// <summary>
    /// 100 unauthenticated connections (from 4 loopback source addresses, 25 each, under the per-source limit), each
    /// sending the largest first frame a target accepts before authentication (64 KiB, held one byte short of complete
    /// so the target must buffer it): the target's resident memory grows by less than 48 MiB.
    /// </summary>
    [Fact]
    public async Task AHundredUnauthenticatedMaximalFirstFramesKeepTheTargetsMemoryBounded()
    {
        var port = FreePorts.One();
        using var target = ChildProcess.Start("transfer-target", PdrdmaProgram.Cli.Line("transfer-target", "--listen", $"0.0.0.0:{port}", "--region-mb", "8", "--handshake-timeout", "30"));
        await target.ReadJsonAsync(TimeSpan.FromSeconds(120), "listening");
        await Task.Delay(500);
        var baseline = Rss(target.Id);
        var clients = new List<Socket>();
        try
        {
            for (var i = 0; i < 100; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.0.{2 + i % 4}"), 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                var frame = new byte[4 + (64 << 10)];
                BitConverter.TryWriteBytes(frame.AsSpan(0, 4), (uint)(64 << 10));
                frame[4] = (byte)MessageType.Hello;
                Random.Shared.NextBytes(frame.AsSpan(5));
                await socket.SendAsync(frame.AsMemory(0, frame.Length - 1), SocketFlags.None);
                clients.Add(socket);
            }
            await Task.Delay(2000);
            var peak = Rss(target.Id);
            Assert.False(target.HasExited);
            output.WriteLine($"target RSS {baseline >> 20} MiB before, {peak >> 20} MiB with 100 unauthenticated 64 KiB first frames held (growth {(peak - baseline) >> 10} KiB, bound 48 MiB)");
            Assert.True(peak - baseline < 48L << 20, $"target RSS grew {(peak - baseline) >> 20} MiB (from {baseline >> 20} to {peak >> 20} MiB) under 100 unauthenticated 64 KiB first frames");
        }
        finally
        {
            foreach (var socket in clients) socket.Dispose();
        }
    }

    private static long Rss(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
