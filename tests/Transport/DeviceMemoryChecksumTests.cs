using System.IO.Hashing;
using PdRdma.Transport;
using PdRdma.Transport.Internal;
using PdRdma.Tests.Transport.Support;

namespace PdRdma.Tests.Transport;

/// <summary>
/// A batch checksum over device memory reads the bytes through the device (IDeviceMemory.Read), never through
/// <see cref="IMemoryRegion.Address"/>, which on a GPU is not CPU memory.
/// </summary>
public sealed class DeviceMemoryChecksumTests
{
    [Fact]
    public void TheChecksumOfADeviceRegionIsOfItsDeviceBytesNotOfWhatItsAddressPointsAt()
    {
        using var device = new DeviceBehindTheCpu("kv", 3 << 20);
        var bytes = new byte[device.Length];
        new Random(7).NextBytes(bytes);
        device.Write(0, bytes);

        ulong actual = ChecksumCalculator.Compute([(device, 1000L, 2L << 20), (device, 0L, 10L)]);

        var expected = new XxHash3();
        expected.Append(bytes.AsSpan(1000, 2 << 20));
        expected.Append(bytes.AsSpan(0, 10));
        Assert.Equal(expected.GetCurrentHashAsUInt64(), actual);
    }
}
