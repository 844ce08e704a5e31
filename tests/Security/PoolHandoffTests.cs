using System.Net;
using System.Security.Cryptography;
using PdRdma.Daemon.Client;
using PdRdma.Daemon.Protocol;
using PdRdma.Interop.Libc;
using PdRdma.Tests.Daemon;
using PdRdma.Transport;

namespace PdRdma.Tests.Security;

/// <summary>
/// Engines hand their pools to a real daemon process by descriptor; a path in a request is never opened, whatever it
/// names; a re-registered pool replaces the old mapping. (issue 11, "no path from outside is opened")
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PoolHandoffTests : IAsyncLifetime
{
    private static readonly KvLayout Layout = new(layers: 2, kvHeads: 2, headDim: 4, tokensPerBlock: 4, KvDType.Float32, blocks: 8);
    private readonly string _folder = TestPaths.Scratch("handoff");
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);
    private DaemonProcess _daemon = null!;

    public async Task InitializeAsync() =>
        _daemon = await DaemonProcess.StartAsync(_folder, "node-h", TestPaths.SecretFile(_folder, _secret));

    public Task DisposeAsync()
    {
        _daemon.Dispose();
        return Task.CompletedTask;
    }

    private string DaemonMaps() => File.ReadAllText($"/proc/{_daemon.Process.Id}/maps");

    private IEnumerable<string> DaemonOpenFiles() =>
        Directory.EnumerateFileSystemEntries($"/proc/{_daemon.Process.Id}/fd").Select(fd => { try { return File.ResolveLinkTarget(fd, false)?.FullName ?? ""; } catch (IOException) { return ""; } });

    [Fact]
    public async Task AnOldStyleRequestNamingAPathIsRefusedAndThePathNeverOpened()
    {
        // A file the daemon must never touch, reached by `..`, from outside /dev/shm, and through a symlink.
        var victim = Path.Combine(_folder, "victim.bin");
        File.WriteAllBytes(victim, new byte[Layout.TotalBytes]);
        var link = Path.Combine(_folder, "link.bin");
        File.CreateSymbolicLink(link, victim);
        var dotdot = "/dev/shm/../.." + victim;
        await using var engine = await RawEngine.ConnectAsync(_daemon.Socket);
        var id = 1;
        foreach (var path in new[] { dotdot, victim, link, "/dev/shm/pdrdma.1.pool" })
        {
            var reply = await engine.CallAsync(id++, new RegisterPoolRequest { PoolId = "p" + id, Path = path, Length = Layout.TotalBytes, Layout = Layout });
            var error = Assert.IsType<ErrorReply>(reply);
            Assert.Equal((int)TransferErrorCode.AccessDenied, error.Code);
            Assert.Contains("opens no path", error.Message);
        }
        Assert.DoesNotContain(victim, DaemonMaps());
        Assert.DoesNotContain(DaemonOpenFiles(), f => f == victim);
        Assert.Empty(((StatusReply)await engine.CallAsync(id, new StatusRequest())).Pools);
        Assert.All(File.ReadAllBytes(victim), b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task ARegisterPoolWithoutItsDescriptorIsRefused()
    {
        await using var engine = await RawEngine.ConnectAsync(_daemon.Socket);
        var reply = Assert.IsType<ErrorReply>(await engine.CallAsync(1, new RegisterPoolRequest { PoolId = "p", Length = Layout.TotalBytes, Layout = Layout }));
        Assert.Equal((int)TransferErrorCode.Protocol, reply.Code);
        Assert.Contains("without the pool's descriptor", reply.Message);
    }

    [Fact]
    public async Task ADescriptorThatIsNotAPoolFileIsRefused()
    {
        await using var engine = await DaemonClient.ConnectAsync(_daemon.Socket, CancellationToken.None);
        // /dev/null (a device: size 0) and a file smaller than the pool it claims to be.
        using (var devnull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite))
        {
            var e = await Assert.ThrowsAsync<TransferException>(() => engine.RegisterPoolAsync("dev", devnull, Layout.TotalBytes, Layout, CancellationToken.None));
            Assert.Equal(TransferErrorCode.OutOfBounds, e.Code);
        }
        var small = Path.Combine(_folder, "small.bin");
        File.WriteAllBytes(small, new byte[64]);
        using (var file = File.OpenHandle(small, FileMode.Open, FileAccess.ReadWrite))
        {
            var e = await Assert.ThrowsAsync<TransferException>(() => engine.RegisterPoolAsync("small", file, Layout.TotalBytes, Layout, CancellationToken.None));
            Assert.Equal(TransferErrorCode.OutOfBounds, e.Code);
        }
        Assert.Empty((await engine.StatusAsync(CancellationToken.None)).Pools);
        Assert.False(_daemon.Process.HasExited);
    }

    [Fact]
    public async Task DescriptorsNoFrameClaimsEndTheSession()
    {
        await using var engine = await RawEngine.ConnectAsync(_daemon.Socket);
        using var file = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite);
        // Three single-byte messages, each with a descriptor, none of them a RegisterPool frame.
        for (var i = 0; i < 3; i++) UnixRights.Send(engine.Socket.SafeHandle, [0], file);
        Assert.Null(await engine.ReadAsync(TimeSpan.FromSeconds(10)));
        Assert.False(_daemon.Process.HasExited);
    }

    [Fact]
    public async Task ReRegisteringAPoolAfterAReconnectReplacesItsMapping()
    {
        using var first = HostRegion.Create("pool-v1", Layout.TotalBytes, _folder);
        using var second = HostRegion.Create("pool-v2", Layout.TotalBytes, _folder);
        await using (var engine = await DaemonClient.ConnectAsync(_daemon.Socket, CancellationToken.None))
            await engine.RegisterPoolAsync("pool", first, Layout, CancellationToken.None);
        await using var again = await DaemonClient.ConnectAsync(_daemon.Socket, CancellationToken.None);
        // The first session's close may still be on its way: retry while the daemon reports the id as held.
        for (var i = 0; ; i++)
        {
            try
            {
                await again.RegisterPoolAsync("pool", second, Layout, CancellationToken.None);
                break;
            }
            catch (TransferException e) when (i < 50 && e.Message.Contains("already registered"))
            {
                await Task.Delay(100);
            }
        }
        await again.ReserveAsync("r1", "pool", [3], "node-a", TimeSpan.FromSeconds(30), CancellationToken.None);

        using var source = HostRegion.Create("src", Layout.TotalBytes, _folder);
        source.AsSpan(0, (int)Layout.TotalBytes).Fill(0x5A);
        await using var peer = new TransferAgent(new TransferAgentOptions { NodeId = "node-a", ClusterSecret = _secret, Backend = BackendChoice.Tcp });
        peer.RegisterRegion(source);
        await peer.StartAsync(CancellationToken.None);
        await using var link = await peer.ConnectAsync(IPEndPoint.Parse(_daemon.PeerEndpoint), CancellationToken.None);
        var extent = Layout.Extent(0, KvPart.Key, 3);
        await link.WriteAsync(new WriteBatch([new WriteOp("src", 0, "pool", extent.Offset, Layout.BlockBytes)]), CancellationToken.None);

        Assert.True(second.AsSpan(extent.Offset, (int)Layout.BlockBytes).IndexOfAnyExcept((byte)0x5A) < 0, "the write did not land in the re-registered pool");
        Assert.False(first.AsSpan(0, (int)Layout.TotalBytes).ContainsAnyExcept((byte)0), "the write landed in the old mapping");
    }
}
