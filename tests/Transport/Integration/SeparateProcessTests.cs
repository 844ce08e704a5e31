using PdRdma.Tests.Transport.Faults;
using PdRdma.Tests.Transport.Support;
using PdRdma.Hosting.Processes;
using PdRdma.Hosting.Network;

namespace PdRdma.Tests.Transport.Integration;

/// <summary>Initiator and target in separate `pdrdma` processes: 256 MiB arrives bit-identical, checksum verified.</summary>
public sealed class SeparateProcessTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData("shm")]
    [InlineData("tcp")]
    public async Task SameHost256MiBArrivesBitIdentical(string backend)
    {
        var port = FreePorts.One();
        using var target = PdrdmaProgram.Cli.Start(null, "transfer-target", "--listen", $"127.0.0.1:{port}", "--region-mb", "256", "--batches", "1");
        await target.ReadJsonAsync(Limit, "listening");
        using var sender = PdrdmaProgram.Cli.Start(null, "transfer-send", "--peer", $"127.0.0.1:{port}", "--mb", "256", "--backend", backend, "--checksum", "--seed", "11");
        var sent = await sender.ReadJsonAsync(Limit);
        var arrived = await target.ReadJsonAsync(Limit, "notified");
        Assert.Equal(backend, sent.GetProperty("backend").GetString());
        Assert.True(sent.GetProperty("checksum_verified").GetBoolean());
        Assert.Equal(256L << 20, arrived.GetProperty("bytes").GetInt64());
        Assert.Equal(sent.GetProperty("source_xxhash3").GetString(), arrived.GetProperty("region_xxhash3").GetString());
        Assert.Equal(0, await sender.WaitForExitAsync(Limit));
    }

    [Fact]
    public async Task AutoChoosesSharedMemoryOnOneHost()
    {
        var port = FreePorts.One();
        using var target = PdrdmaProgram.Cli.Start(null, "transfer-target", "--listen", $"127.0.0.1:{port}", "--region-mb", "8");
        await target.ReadJsonAsync(Limit, "listening");
        using var sender = PdrdmaProgram.Cli.Start(null, "transfer-send", "--peer", $"127.0.0.1:{port}", "--mb", "8");
        var sent = await sender.ReadJsonAsync(Limit);
        Assert.Equal("shm", sent.GetProperty("backend").GetString());
        Assert.Contains("same host", sent.GetProperty("reason").GetString());
    }

    [RootFact]
    [Trait("Category", "Root")]
    public async Task TwoNamespacesOverVeth256MiBArrivesBitIdenticalOverTcp()
    {
        await using var hosts = await NamespacePair.CreateAsync("pdt", reachableFromRoot: false, CancellationToken.None);
        using var target = PdrdmaProgram.Cli.Start(hosts.B, "transfer-target", "--listen", $"{hosts.AddressB}:7400", "--region-mb", "256", "--batches", "1");
        await target.ReadJsonAsync(Limit, "listening");
        using var sender = PdrdmaProgram.Cli.Start(hosts.A, "transfer-send", "--peer", $"{hosts.AddressB}:7400", "--mb", "256", "--backend", "tcp", "--checksum", "--seed", "5");
        var sent = await sender.ReadJsonAsync(Limit);
        var arrived = await target.ReadJsonAsync(Limit, "notified");
        Assert.Equal("tcp", sent.GetProperty("backend").GetString());
        Assert.True(sent.GetProperty("checksum_verified").GetBoolean());
        Assert.Equal(sent.GetProperty("source_xxhash3").GetString(), arrived.GetProperty("region_xxhash3").GetString());
    }

    [RootFact]
    [Trait("Category", "Root")]
    public async Task TwoNamespacesConnectingToNobodyFailsWithPeerLostAndDoesNotHang()
    {
        await using var hosts = await NamespacePair.CreateAsync("pdt", reachableFromRoot: false, CancellationToken.None);
        using var sender = PdrdmaProgram.Cli.Start(hosts.A, "transfer-send", "--peer", $"{hosts.AddressB}:7401", "--mb", "1", "--backend", "tcp");
        Assert.NotEqual(0, await sender.WaitForExitAsync(Limit));
        Assert.Contains("PeerLost", sender.Stderr);
    }
}
