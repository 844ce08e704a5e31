using System.Net;
using PdRdma.Transport;
using PdRdma.Transport.Backends;

namespace PdRdma.Tests.Transport.Support;

/// <summary>
/// A target agent with one region ("kv", filled with a known pattern) and an initiator agent with a source region
/// ("src"), both in this process, on loopback, over real sockets and real shared memory.
/// </summary>
public sealed class AgentPair : IAsyncDisposable
{
    private AgentPair(TransferAgent target, TransferAgent initiator, HostRegion targetRegion, HostRegion sourceRegion)
    {
        Target = target;
        Initiator = initiator;
        TargetRegion = targetRegion;
        SourceRegion = sourceRegion;
    }

    public TransferAgent Target { get; }
    public TransferAgent Initiator { get; }
    public HostRegion TargetRegion { get; }
    public HostRegion SourceRegion { get; }
    public IPEndPoint Endpoint => Target.LocalEndpoint!;

    public static async Task<AgentPair> StartAsync(
        Func<IReadOnlyList<ITransferBackend>>? backends = null, long regionBytes = 8 << 20,
        Func<TransferAgentOptions, TransferAgentOptions>? target = null, Func<TransferAgentOptions, TransferAgentOptions>? initiator = null,
        IPAddress? listen = null)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var targetRegion = HostRegion.Create($"kv", regionBytes, Directory.CreateDirectory(Path.Combine(HostRegion.DefaultDirectory, $"pdt-{id}-t")).FullName);
        var sourceRegion = HostRegion.Create($"src", regionBytes, Directory.CreateDirectory(Path.Combine(HostRegion.DefaultDirectory, $"pdt-{id}-i")).FullName);
        TestBytes.Fill(targetRegion, seed: 7);
        TestBytes.Fill(sourceRegion, seed: 99);
        var targetOptions = new TransferAgentOptions { NodeId = $"target-{id}", Listen = new IPEndPoint(listen ?? IPAddress.Loopback, 0), Backends = backends?.Invoke() };
        var initiatorOptions = new TransferAgentOptions { NodeId = $"initiator-{id}", Backends = backends?.Invoke() };
        var targetAgent = new TransferAgent(target?.Invoke(targetOptions) ?? targetOptions);
        var initiatorAgent = new TransferAgent(initiator?.Invoke(initiatorOptions) ?? initiatorOptions);
        targetAgent.RegisterRegion(targetRegion);
        initiatorAgent.RegisterRegion(sourceRegion);
        await targetAgent.StartAsync(CancellationToken.None);
        return new AgentPair(targetAgent, initiatorAgent, targetRegion, sourceRegion);
    }

    public Task<PeerConnection> ConnectAsync() => Initiator.ConnectAsync(Endpoint, CancellationToken.None);

    /// <summary>A fresh initiator (another peer) with its own source region, proving the target still serves others.</summary>
    public async Task AssertServesAnotherPeerAsync(Func<IReadOnlyList<ITransferBackend>>? backends = null, byte[]? secret = null)
    {
        using var source = HostRegion.Create($"other-{Guid.NewGuid():N}", 1 << 20);
        TestBytes.Fill(source, seed: 1234);
        await using var other = new TransferAgent(new TransferAgentOptions { NodeId = $"other-{Guid.NewGuid():N}", Backends = backends?.Invoke(), ClusterSecret = secret });
        other.RegisterRegion(source);
        await using var connection = await other.ConnectAsync(Endpoint, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
        await connection.WriteAsync(new WriteBatch([new WriteOp(source.Id, 0, "kv", 0, source.Length)], "other"u8.ToArray(), ChecksumKind.XxHash3), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(TestBytes.Hash(source), TestBytes.Hash(TargetRegion, 0, source.Length));
        var note = await NextNotificationAsync(n => n.PeerNodeId == connection.PeerNodeId || n.Payload.SequenceEqual("other"u8.ToArray()));
        Assert.Equal("other", System.Text.Encoding.UTF8.GetString(note.Payload));
    }

    public async Task<TransferNotification> NextNotificationAsync(Func<TransferNotification, bool>? match = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var note = await Target.Notifications.ReadAsync(cts.Token);
            if (match is null || match(note)) return note;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Initiator.DisposeAsync();
        await Target.DisposeAsync();
        foreach (var region in new[] { TargetRegion, SourceRegion })
        {
            var dir = Path.GetDirectoryName(region.SharedPath)!;
            region.Dispose();
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
