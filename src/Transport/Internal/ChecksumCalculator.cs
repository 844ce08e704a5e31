using System.IO.Hashing;

namespace PdRdma.Transport.Internal;

/// <summary>XxHash3 over a batch's extents in order (the same list on both sides, after coalescing).</summary>
internal static class ChecksumCalculator
{
    public static ulong Compute(IEnumerable<(IMemoryRegion Region, long Offset, long Length)> extents)
    {
        var hash = new XxHash3();
        byte[]? bounce = null;
        foreach (var (region, offset, length) in extents)
        {
            const int Step = 64 << 20;
            for (long done = 0; done < length; done += Step)
            {
                int n = (int)Math.Min(Step, length - done);
                if (region.Kind != MemoryKind.Host && region is IDeviceMemory device)
                {
                    // Device memory is not addressable from the CPU: read it through the device.
                    bounce ??= new byte[Step];
                    device.Read(offset + done, bounce.AsSpan(0, n));
                    hash.Append(bounce.AsSpan(0, n));
                }
                else
                {
                    hash.Append(RegionMemory.Span(region, offset + done, n));
                }
            }
        }
        return hash.GetCurrentHashAsUInt64();
    }
}
