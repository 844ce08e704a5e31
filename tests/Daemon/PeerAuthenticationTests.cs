using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using PdRdma.Daemon.Client;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Tests.Daemon;

/// <summary>A real daemon process holds a pool with a lease for node-a; peers try to write into it.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PeerAuthenticationTests : IAsyncLifetime
{
    private static readonly KvLayout Layout = new(layers: 2, kvHeads: 2, headDim: 4, tokensPerBlock: 4, KvDType.Float32, blocks: 8);
    private readonly string _folder = TestPaths.Scratch("auth");
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);
    private DaemonProcess _daemon = null!;
    private HostRegion _pool = null!;
    private HostRegion _source = null!;
    private DaemonClient _engine = null!;

    public async Task InitializeAsync()
    {
        _daemon = await DaemonProcess.StartAsync(_folder, "node-b", TestPaths.SecretFile(_folder, _secret));
        _pool = HostRegion.Create("pool-b", Layout.TotalBytes, _folder);
        _source = HostRegion.Create("src", Layout.TotalBytes, _folder);
        _source.AsSpan(0, (int)Layout.TotalBytes).Fill(0xAB);
        _engine = await DaemonClient.ConnectAsync(_daemon.Socket, CancellationToken.None);
        await _engine.RegisterPoolAsync("pool-b", _pool, Layout, CancellationToken.None);
        await _engine.ReserveAsync("r1", "pool-b", [1], "node-a", TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        _daemon.Dispose();
        _pool.Dispose();
        _source.Dispose();
    }

    private bool PoolUntouched() => !_pool.AsSpan(0, (int)Layout.TotalBytes).ContainsAnyExcept((byte)0);

    /// <summary>A peer node as the transfer library builds it (tcp, as between hosts).</summary>
    private async Task<TransferAgent> AgentAsync(byte[]? secret, string nodeId = "node-a")
    {
        var agent = new TransferAgent(new TransferAgentOptions { NodeId = nodeId, ClusterSecret = secret, Backend = BackendChoice.Tcp });
        agent.RegisterRegion(_source);
        await agent.StartAsync(CancellationToken.None);
        return agent;
    }

    private static WriteBatch Block(int block) =>
        new([new WriteOp("src", 0, "pool-b", Layout.Extent(0, KvPart.Key, block).Offset, Layout.BlockBytes)]);

    [Fact]
    public async Task APeerWithTheWrongSecretIsRefusedAndWritesNothing()
    {
        await using var fabric = await AgentAsync(RandomNumberGenerator.GetBytes(32));
        var error = await Assert.ThrowsAsync<TransferException>(() => fabric.ConnectAsync(IPEndPoint.Parse(_daemon.PeerEndpoint), CancellationToken.None));
        Assert.Equal(TransferErrorCode.Unauthenticated, error.Code);
        Assert.True(PoolUntouched());
        await WaitForLogAsync("refused connection from");
    }

    [Fact]
    public async Task APeerWithoutASecretIsRefusedAndWritesNothing()
    {
        await using var agent = await AgentAsync(secret: null);
        var error = await Assert.ThrowsAsync<TransferException>(() => agent.ConnectAsync(IPEndPoint.Parse(_daemon.PeerEndpoint), CancellationToken.None));
        Assert.Equal(TransferErrorCode.Unauthenticated, error.Code);
        Assert.True(PoolUntouched());
    }

    [Fact]
    public async Task GarbageBytesAreRefusedAndWriteNothing()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPEndPoint.Parse(_daemon.PeerEndpoint));
        await socket.SendAsync(RandomNumberGenerator.GetBytes(64 * 1024));
        var buffer = new byte[4096];
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            while (await socket.ReceiveAsync(buffer, bounded.Token) > 0) { }
        }
        catch (SocketException)
        {
            // reset by the daemon: also a refusal
        }
        Assert.True(PoolUntouched());
        Assert.True((await new HttpClient().GetAsync(_daemon.Health)).IsSuccessStatusCode); // still serving
    }

    [Fact]
    public async Task AnAuthenticatedPeerWritesOnlyItsLeasedBlocks()
    {
        await using var fabric = await AgentAsync(_secret);
        var peer = await fabric.ConnectAsync(IPEndPoint.Parse(_daemon.PeerEndpoint), CancellationToken.None);
        var denied = await Assert.ThrowsAsync<TransferException>(() => peer.WriteAsync(Block(2), CancellationToken.None));
        Assert.Equal(TransferErrorCode.AccessDenied, denied.Code);
        Assert.True(PoolUntouched());

        await using var stranger = await AgentAsync(_secret, nodeId: "node-c"); // right secret, no lease
        var other = await stranger.ConnectAsync(IPEndPoint.Parse(_daemon.PeerEndpoint), CancellationToken.None);
        Assert.Equal(TransferErrorCode.AccessDenied, (await Assert.ThrowsAsync<TransferException>(() => other.WriteAsync(Block(1), CancellationToken.None))).Code);
        Assert.True(PoolUntouched());

        await peer.WriteAsync(Block(1), CancellationToken.None); // the lease holder may: proves the checks above can fail
        var extent = Layout.Extent(0, KvPart.Key, 1);
        Assert.True(_pool.AsSpan(extent.Offset, (int)extent.Length).IndexOfAnyExcept((byte)0xAB) < 0);
        Assert.True(_pool.AsSpan(0, (int)extent.Offset).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task AnExpiredLeaseIsReportedToTheEngineAndGrantsNothing()
    {
        await _engine.SubscribeAsync(CancellationToken.None);
        await _engine.ReserveAsync("short", "pool-b", [6], "node-a", TimeSpan.FromMilliseconds(300), CancellationToken.None);
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var ended = await _engine.Events.ReadAsync(bounded.Token);
        Assert.Equal("short", Assert.IsType<LeaseEnded>(ended).RequestId);
        await using var fabric = await AgentAsync(_secret);
        var peer = await fabric.ConnectAsync(IPEndPoint.Parse(_daemon.PeerEndpoint), CancellationToken.None);
        Assert.Equal(TransferErrorCode.AccessDenied, (await Assert.ThrowsAsync<TransferException>(() => peer.WriteAsync(Block(6), CancellationToken.None))).Code);
        var status = await _engine.StatusAsync(CancellationToken.None);
        Assert.Equal(1, status.LeasesExpired);
        Assert.Equal(1, status.LeasesActive); // r1 is still held
        Assert.True(await _engine.ReleaseAsync("r1", CancellationToken.None));
        Assert.Equal(0, (await _engine.StatusAsync(CancellationToken.None)).LeasesActive);
    }

    private async Task WaitForLogAsync(string text)
    {
        for (var i = 0; i < 50 && !_daemon.Process.Tail(200).Contains(text); i++) await Task.Delay(100);
        Assert.Contains(text, _daemon.Process.Tail(200));
    }
}
