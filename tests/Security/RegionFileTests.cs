using System.Net;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Backends.SharedMemory;

namespace PdRdma.Tests.Security;

/// <summary>Issue 11 items 3 and 4: region files are created safely, and an initiator opens no file a peer names outside the rules.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RegionFileTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public void RegionFilesAreFreshUnpredictableAndPrivate()
    {
        using var a = HostRegion.Create("kv", 4096);
        using var b = HostRegion.Create("kv", 4096);
        Assert.NotEqual(a.SharedPath, b.SharedPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(a.SharedPath!));
    }

    [Fact]
    public void APlantedSymlinkOrPreCreatedFileIsNeverFollowedOrReused()
    {
        var folder = Directory.CreateDirectory(Path.Combine(HostRegion.DefaultDirectory, $"pdt-plant-{Guid.NewGuid():N}")).FullName;
        try
        {
            var victim = Path.Combine(folder, "victim");
            File.WriteAllText(victim, "precious");
            var link = Path.Combine(folder, "pdrdma.link");
            File.CreateSymbolicLink(link, victim);
            Assert.ThrowsAny<IOException>(() => HostRegion.CreateAt("kv", link, 1 << 20));
            Assert.Equal("precious", File.ReadAllText(victim));
            var planted = Path.Combine(folder, "pdrdma.planted");
            File.WriteAllText(planted, "someone else's");
            File.SetUnixFileMode(planted, (UnixFileMode)0b110_110_110);
            Assert.ThrowsAny<IOException>(() => HostRegion.CreateAt("kv", planted, 1 << 20));
            Assert.Equal("someone else's", File.ReadAllText(planted));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public static TheoryData<string> HostilePaths() => new()
    {
        "outside",     // a file outside /dev/shm
        "dotdot",      // /dev/shm/../.. into it
        "symlink",     // a symlink in /dev/shm pointing at it
        "unnamed",     // inside /dev/shm but not a region file's name
    };

    [Theory]
    [MemberData(nameof(HostilePaths))]
    public async Task AnInitiatorNeverWritesIntoAFileAPeerNamedOutsideTheRules(string kind)
    {
        var outside = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"pdt-victim-{Guid.NewGuid():N}")).FullName;
        var shm = Directory.CreateDirectory(Path.Combine(HostRegion.DefaultDirectory, $"pdt-hostile-{Guid.NewGuid():N}")).FullName;
        try
        {
            var victim = Path.Combine(outside, "pdrdma.victim");
            File.WriteAllBytes(victim, new byte[1 << 20]);
            var claimed = kind switch
            {
                "outside" => victim,
                "dotdot" => HostRegion.DefaultDirectory + "/../.." + victim,
                "symlink" => Path.Combine(shm, "pdrdma.link"),
                _ => Path.Combine(shm, "victim"),
            };
            if (kind == "symlink") File.CreateSymbolicLink(claimed, victim);
            if (kind == "unnamed") File.WriteAllBytes(claimed, new byte[1 << 20]);
            var before = File.ReadAllBytes(kind == "unnamed" ? claimed : victim);

            var real = HostRegion.Create("kv", 1 << 20, shm);
            using var lying = new LyingRegion(real, claimed);
            await using var target = new TransferAgent(new TransferAgentOptions { NodeId = "hostile-target", Listen = new IPEndPoint(IPAddress.Loopback, 0), Backends = [new SharedMemoryBackend()] });
            target.RegisterRegion(lying);
            await target.StartAsync(CancellationToken.None);
            using var source = HostRegion.Create("src", 1 << 20);
            TestBytes.Fill(source, seed: 3);
            await using var initiator = new TransferAgent(new TransferAgentOptions { NodeId = "initiator", Backends = [new SharedMemoryBackend()] });
            initiator.RegisterRegion(source);
            await using var connection = await initiator.ConnectAsync(target.LocalEndpoint!, CancellationToken.None).WaitAsync(Limit);
            var ex = await Assert.ThrowsAsync<TransferException>(() => connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 1 << 20)]), CancellationToken.None).WaitAsync(Limit));
            Assert.Equal(TransferErrorCode.AccessDenied, ex.Code);
            Assert.Contains("not opened", ex.Message);
            Assert.Equal(before, File.ReadAllBytes(kind == "unnamed" ? claimed : victim));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
            Directory.Delete(shm, recursive: true);
        }
    }
}
