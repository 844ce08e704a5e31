using PdRdma.Transport;
using PdRdma.Transport.Backends.SharedMemory;
using PdRdma.Transport.Backends.SharedMemory.Internal;

namespace PdRdma.Tests.Transport.SharedMemory;

/// <summary>
/// The channel a target offers is input from the peer: the initiator opens only a region-style file under the
/// shared-memory folder, of sizes within fixed bounds, on the channel version it speaks; anything else is refused
/// before anything is opened.
/// </summary>
public sealed class ChannelOfferTests
{
    private static ChannelOffer Good(string path) => new(ChannelLayout.Version, path, ChannelLayout.DefaultRingBytes, ChannelLayout.DefaultErrorSlots, ChannelLayout.DefaultGrantSlots, false, 1 << 17, 1L << 30);

    [Fact]
    public void AFileMadeLikeAChannelIsAccepted()
    {
        using var file = HostRegion.Create("shm-channel", 4096);
        Assert.Null(SharedMemoryBackend.OfferRefusal(Good(file.SharedPath!)));
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/dev/shm/../etc/passwd")]
    [InlineData("relative/pdrdma.x")]
    [InlineData("/dev/shm/not-ours")]
    [InlineData("/dev/shm/pdrdma.does-not-exist")]
    [InlineData("/proc/1/fd/0")]
    [InlineData("")]
    public void APathOutsideTheRulesIsNotOpened(string path)
    {
        var refusal = SharedMemoryBackend.OfferRefusal(Good(path));
        Assert.Equal(TransferErrorCode.AccessDenied, refusal?.Code);
        Assert.Contains("not opened", refusal?.Why);
    }

    [Fact]
    public void ASymlinkNamedLikeAChannelIsNotOpened()
    {
        var link = Path.Combine(HostRegion.DefaultDirectory, $"pdrdma.link-{Guid.NewGuid():N}");
        File.CreateSymbolicLink(link, "/etc/passwd");
        try
        {
            Assert.Equal(TransferErrorCode.AccessDenied, SharedMemoryBackend.OfferRefusal(Good(link))?.Code);
        }
        finally
        {
            File.Delete(link);
        }
    }

    [Theory]
    [InlineData(0, 64, 1024)]
    [InlineData(3 << 20, 64, 1024)]       // not a power of two
    [InlineData(1 << 30, 64, 1024)]       // too big
    [InlineData(2 << 20, 0, 1024)]
    [InlineData(2 << 20, 1 << 20, 1024)]
    [InlineData(2 << 20, 64, 0)]
    [InlineData(2 << 20, 64, int.MaxValue)]
    public void SizesOutsideTheBoundsAreRefused(int ringBytes, int errorSlots, int grantSlots)
    {
        using var file = HostRegion.Create("shm-channel", 4096);
        var refusal = SharedMemoryBackend.OfferRefusal(new ChannelOffer(ChannelLayout.Version, file.SharedPath!, ringBytes, errorSlots, grantSlots, false, 1 << 17, 1L << 30));
        Assert.Equal(TransferErrorCode.Protocol, refusal?.Code);
    }

    [Fact]
    public void AnotherChannelVersionIsRefused()
    {
        using var file = HostRegion.Create("shm-channel", 4096);
        Assert.Equal(TransferErrorCode.VersionMismatch, SharedMemoryBackend.OfferRefusal(Good(file.SharedPath!) with { Version = 99 })?.Code);
    }
}
