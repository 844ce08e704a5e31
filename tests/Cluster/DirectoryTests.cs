using System.Diagnostics;
using dotnet_etcd;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Daemon.Discovery;
using PdRdma.Engines.Serving.Routing;
using PdRdma.Transport;
using PdRdma.Hosting.Network;

namespace PdRdma.Tests.Cluster;

/// <summary>
/// The etcd directory against a real etcd: registrations held by leases, watches that follow joins and leaves,
/// hostile records skipped, etcd unreachable at start (a clear error naming it) and lost while running (last
/// known membership kept and reported, registration restored when etcd is back).
/// </summary>
public sealed class DirectoryTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private EtcdOptions Options(string prefix) => new() { Endpoints = etcd.Url, Prefix = prefix, LeaseTtlSeconds = 2, CallTimeoutSeconds = 2 };

    private static string Prefix() => "/t" + Guid.NewGuid().ToString("N")[..8];

    private static InstanceRecord Instance(string role, int port) => new() { Role = role, Model = "m", Url = $"http://127.0.0.1:{port}", Node = $"n{port}" };

    [Fact]
    public async Task WatchFollowsRegistrationsJoiningAndLeaving()
    {
        var options = Options(Prefix());
        using var directory = await EtcdDirectory.ConnectAsync(options, CancellationToken.None);
        await using var upstreams = await EtcdUpstreams.StartAsync(options, NullLogger.Instance, CancellationToken.None);
        Assert.Empty(upstreams.Decode);

        var a = await directory.RegisterAsync(DirectoryKeys.Instance(options.Prefix, "decode", "a"), () => Instance("decode", 1001).ToJson(), NullLogger.Instance, CancellationToken.None);
        await using var b = await directory.RegisterAsync(DirectoryKeys.Instance(options.Prefix, "prefill", "b"), () => Instance("prefill", 1002).ToJson(), NullLogger.Instance, CancellationToken.None);
        await EventuallyAsync(() => upstreams.Decode.Count == 1 && upstreams.Prefill.Count == 1, TimeSpan.FromSeconds(5));
        Assert.Equal("http://127.0.0.1:1001", upstreams.Decode[0].Url);
        Assert.Equal("n1001", upstreams.Decode[0].Node);

        // A clean stop revokes the lease: the instance leaves at the next watch event, not after the TTL.
        var clock = Stopwatch.StartNew();
        await a.DisposeAsync();
        await EventuallyAsync(() => upstreams.Decode.Count == 0, TimeSpan.FromSeconds(1));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"left after {clock.Elapsed}");
        var e = Assert.Throws<global::PdRdma.Engines.Serving.ServingException>(() => ((IUpstreamDirectory)upstreams).PickDecode());
        Assert.Equal(503, e.Status);
        Assert.Equal("watching", upstreams.State);
    }

    [Fact]
    public async Task LoadUpdatesReachTheWatchersAndSteerRouting()
    {
        var options = Options(Prefix());
        using var directory = await EtcdDirectory.ConnectAsync(options, CancellationToken.None);
        await using var upstreams = await EtcdUpstreams.StartAsync(options, NullLogger.Instance, CancellationToken.None);
        var busy = 5;
        await using var a = await directory.RegisterAsync(DirectoryKeys.Instance(options.Prefix, "decode", "a"), () => (Instance("decode", 2001) with { Running = Volatile.Read(ref busy), FreeBlocks = 10 }).ToJson(), NullLogger.Instance, CancellationToken.None);
        await using var b = await directory.RegisterAsync(DirectoryKeys.Instance(options.Prefix, "decode", "b"), () => (Instance("decode", 2002) with { Running = 1, FreeBlocks = 10 }).ToJson(), NullLogger.Instance, CancellationToken.None);
        await EventuallyAsync(() => upstreams.Decode.Count == 2, TimeSpan.FromSeconds(5));
        for (var i = 0; i < 20; i++) Assert.Equal("http://127.0.0.1:2002", ((IUpstreamDirectory)upstreams).PickDecode().Url);
        Volatile.Write(ref busy, 0); // a's batch drains: its next published load makes it the pick
        await EventuallyAsync(() => ((IUpstreamDirectory)upstreams).PickDecode().Url == "http://127.0.0.1:2001", TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task HostileRecordsAreSkipped()
    {
        var options = Options(Prefix());
        using var client = new EtcdClient(etcd.Url, configureChannelOptions: o => o.Credentials = ChannelCredentials.Insecure);
        var instances = DirectoryKeys.Instances(options.Prefix);
        await client.PutAsync(instances + "decode/good", Instance("decode", 3001).ToJson());
        await client.PutAsync(instances + "decode/path", (Instance("decode", 3002) with { Url = "http://127.0.0.1:3002/internal/cancel?x=1" }).ToJson());
        await client.PutAsync(instances + "decode/file", (Instance("decode", 3003) with { Url = "file:///etc/passwd" }).ToJson());
        await client.PutAsync(instances + "decode/creds", (Instance("decode", 3004) with { Url = "http://user:pw@127.0.0.1:3004" }).ToJson());
        await client.PutAsync(instances + "decode/role", Instance("prefill", 3005).ToJson());
        await client.PutAsync(instances + "decode/version", (Instance("decode", 3006) with { Version = 99 }).ToJson());
        await client.PutAsync(instances + "decode/negative", (Instance("decode", 3007) with { FreeBlocks = -1 }).ToJson());
        await client.PutAsync(instances + "decode/garbage", "{not json");
        await client.PutAsync(instances + "decode/huge", Instance("decode", 3008).ToJson() + new string(' ', DirectoryKeys.MaxValueBytes));
        await client.PutAsync(instances + "evil/x", Instance("decode", 3009).ToJson());
        await using var upstreams = await EtcdUpstreams.StartAsync(options, NullLogger.Instance, CancellationToken.None);
        Assert.Equal(["http://127.0.0.1:3001"], upstreams.Decode.Select(u => u.Url));
        Assert.Empty(upstreams.Prefill);

        // The same records arriving through the watch (not the first listing) are skipped too.
        await client.PutAsync(instances + "decode/late", (Instance("decode", 3010) with { Url = "http://127.0.0.1:3010/../x" }).ToJson());
        await client.PutAsync(instances + "decode/late-good", Instance("decode", 3011).ToJson());
        await EventuallyAsync(() => upstreams.Decode.Count == 2, TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(upstreams.Decode, u => u.Url.Contains("3010", StringComparison.Ordinal));
    }

    [Fact]
    public void NodeRecordsAreValidated()
    {
        var good = new NodeRecord { NodeId = "d0", HostId = "h", Endpoints = new() { ["tcp"] = "127.0.0.1:4000" } };
        Assert.True(NodeRecord.TryParse(good.ToJson(), "d0", out var parsed, out _));
        Assert.Equal("127.0.0.1:4000", parsed!.EndpointFor("verbs"));
        Assert.False(NodeRecord.TryParse(good.ToJson(), "d1", out _, out var error)); // a record under another node's key
        Assert.Contains("d1", error);
        Assert.False(NodeRecord.TryParse((good with { Endpoints = new() { ["tcp"] = "/etc/passwd" } }).ToJson(), "d0", out _, out _));
        Assert.False(NodeRecord.TryParse((good with { Endpoints = new() { ["carrier-pigeon"] = "127.0.0.1:1" } }).ToJson(), "d0", out _, out _));
        Assert.False(NodeRecord.TryParse((good with { NodeId = "../d0" }).ToJson(), "../d0", out _, out _));
        Assert.False(NodeRecord.TryParse("[]", "d0", out _, out _));
        Assert.Throws<ArgumentException>(() => DirectoryKeys.Node("/pdrdma", "../../etc"));
    }

    [Theory]
    [InlineData("ftp://127.0.0.1:2379")]
    [InlineData("http://127.0.0.1")]
    [InlineData("http://user:pw@127.0.0.1:2379")]
    [InlineData("http://127.0.0.1:2379/v3/kv")]
    [InlineData("not a url")]
    public void BadEndpointsAreRefusedBeforeAnyCall(string endpoint)
    {
        var errors = new EtcdOptions { Endpoints = endpoint }.Validate();
        Assert.Contains(errors, e => e.Contains("not http(s)://HOST:PORT", StringComparison.Ordinal));
    }

    [Fact]
    public void BadSettingsAreRefused()
    {
        Assert.NotEmpty(new EtcdOptions { Endpoints = "http://127.0.0.1:2379", Prefix = "/a/../b" }.Validate());
        Assert.NotEmpty(new EtcdOptions { Endpoints = "http://127.0.0.1:2379", LeaseTtlSeconds = 0 }.Validate());
        Assert.NotEmpty(new EtcdOptions { Endpoints = "http://127.0.0.1:2379", Username = "u" }.Validate());
        Assert.NotEmpty(new EtcdOptions { Endpoints = "http://127.0.0.1:2379", CaFile = "/nonexistent/ca.pem" }.Validate());
        Assert.NotEmpty(new EtcdOptions { Endpoints = string.Join(",", Enumerable.Repeat("http://127.0.0.1:2379", 17)) }.Validate());
    }

    [Fact]
    public async Task UnreachableEtcdAtStartIsAClearErrorNamingTheEndpoint()
    {
        var endpoint = $"http://127.0.0.1:{FreePorts.One()}";
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TransferException>(() => EtcdDirectory.ConnectAsync(new EtcdOptions { Endpoints = endpoint, CallTimeoutSeconds = 2 }, CancellationToken.None));
        Assert.Equal(TransferErrorCode.PeerLost, e.Code);
        Assert.Contains(endpoint, e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("serve", "--url", "http://127.0.0.1:1/internal/cancel")]
    [InlineData("serve", "--url", "file:///etc/passwd")]
    [InlineData("proxy", "--etcd", "http://127.0.0.1")]
    [InlineData("proxy", "--etcd-prefix", "/a/../../b")]
    [InlineData("serve", "--etcd-ttl", "100000")]
    public async Task HostileDiscoveryOptionsAreRefusedWithTheReason(string command, string option, string value)
    {
        var (code, output) = await Daemon.TestPathsAccess.RunCliAsync(TimeSpan.FromSeconds(60),
            [command, "--port", "1", "--etcd", "http://127.0.0.1:2", option, value]);
        Assert.Equal(2, code);
        Assert.Contains(option == "--url" ? "--url" : "etcd", output);
    }

    [Theory]
    [InlineData("daemon")]
    [InlineData("serve")]
    [InlineData("proxy")]
    public async Task CommandsRefuseToStartWithoutEtcdAndNameIt(string command)
    {
        var endpoint = $"http://127.0.0.1:{FreePorts.One()}";
        var work = Path.Combine(Path.GetTempPath(), $"pdrdma-noetcd-{Guid.NewGuid():N}"[..32]);
        Directory.CreateDirectory(work);
        try
        {
            var secret = Path.Combine(work, "key");
            await File.WriteAllBytesAsync(secret, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(secret, UnixFileMode.UserRead);
            var port = FreePorts.Take(2);
            string[] args = command switch
            {
                "daemon" => ["daemon", "--node-id", "x", "--socket", Path.Combine(work, "d.sock"), "--group", "", "--peer-listen", $"127.0.0.1:{port[0]}", "--http-listen", $"127.0.0.1:{port[1]}", "--secret-file", secret, "--backend", "tcp", "--etcd", endpoint],
                "serve" => ["serve", "--role", "colocated", "--model", "toy", "--port", $"{port[0]}", "--etcd", endpoint],
                _ => ["proxy", "--port", $"{port[0]}", "--etcd", endpoint],
            };
            var (code, output) = await Daemon.TestPathsAccess.RunCliAsync(TimeSpan.FromSeconds(60), args);
            Assert.NotEqual(0, code);
            Assert.Contains(endpoint, output);
            Assert.Contains("etcd", output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task WrongEtcdPasswordIsRefusedNamingTheEndpoint()
    {
        // Auth enabled on a private etcd (root + a user limited to its prefix), as an operator would.
        await using var secured = new EtcdFixture();
        await secured.InitializeAsync();
        async Task Etcdctl(params string[] args)
        {
            var (code, output) = await RunAsync("etcdctl", ["--endpoints", secured.Url, .. args]);
            Assert.True(code == 0, $"etcdctl {string.Join(' ', args)}: {output}");
        }
        await Etcdctl("user", "add", "root:rootpw");
        await Etcdctl("user", "add", "pd:pdpw");
        await Etcdctl("role", "add", "pd");
        await Etcdctl("role", "grant-permission", "pd", "--prefix=true", "readwrite", "/auth/");
        await Etcdctl("user", "grant-role", "pd", "pd");
        await Etcdctl("user", "grant-role", "root", "root");
        await Etcdctl("auth", "enable");
        var passwords = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(passwords, "pdpw\n");
            var options = new EtcdOptions { Endpoints = secured.Url, Username = "pd", PasswordFile = passwords, Prefix = "/auth", LeaseTtlSeconds = 2 };
            using (var directory = await EtcdDirectory.ConnectAsync(options, CancellationToken.None))
            await using (await directory.RegisterAsync(DirectoryKeys.Node("/auth", "n1"), () => "{}", NullLogger.Instance, CancellationToken.None))
            {
            }
            await File.WriteAllTextAsync(passwords, "wrong\n");
            var e = await Assert.ThrowsAsync<TransferException>(() => EtcdDirectory.ConnectAsync(options, CancellationToken.None));
            Assert.Equal(TransferErrorCode.Unauthenticated, e.Code);
            Assert.Contains(secured.Url, e.Message);
            await File.WriteAllTextAsync(passwords, "pdpw\n");
            var outside = new EtcdOptions { Endpoints = secured.Url, Username = "pd", PasswordFile = passwords, Prefix = "/other", LeaseTtlSeconds = 2 };
            var denied = await Assert.ThrowsAsync<TransferException>(() => EtcdDirectory.ConnectAsync(outside, CancellationToken.None));
            Assert.Equal(TransferErrorCode.Unauthenticated, denied.Code);
        }
        finally
        {
            File.Delete(passwords);
        }
    }

    [Fact]
    public async Task EtcdLostWhileRunningKeepsTheLastMembershipAndRegistersAgainWhenBack()
    {
        // A private etcd: this test kills it.
        await using var own = new EtcdFixture();
        await own.InitializeAsync();
        var options = new EtcdOptions { Endpoints = own.Url, Prefix = Prefix(), LeaseTtlSeconds = 2, CallTimeoutSeconds = 1 };
        using var directory = await EtcdDirectory.ConnectAsync(options, CancellationToken.None);
        await using var upstreams = await EtcdUpstreams.StartAsync(options, NullLogger.Instance, CancellationToken.None);
        await using var registration = await directory.RegisterAsync(DirectoryKeys.Instance(options.Prefix, "decode", "a"), () => Instance("decode", 4001).ToJson(), NullLogger.Instance, CancellationToken.None);
        await EventuallyAsync(() => upstreams.Decode.Count == 1, TimeSpan.FromSeconds(5));

        own.Server.Kill();
        await EventuallyAsync(() => !registration.Registered && upstreams.State.Contains("unreachable", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        Assert.Contains(own.Url, upstreams.State);
        Assert.Contains("last known membership", upstreams.State);
        Assert.Single(upstreams.Decode); // still routable
        Assert.Contains("unreachable", registration.State);

        await own.Server.StartAgainAsync(CancellationToken.None);
        await EventuallyAsync(() => registration.Registered && upstreams.State == "watching", TimeSpan.FromSeconds(15));
        Assert.Single(upstreams.Decode);
    }

    internal static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < timeout, $"condition not reached within {timeout.TotalSeconds} s");
            await Task.Delay(20);
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
