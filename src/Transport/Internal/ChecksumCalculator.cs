using System.IO.Hashing;

namespace PdRdma.Transport.Internal;

/// <summary>XxHash3 over a batch's extents in order (the same list on both sides, after coalescing).</summary>
internal static class ChecksumCalculator
{
    public static ulong Compute(IEnumerable<(IMemoryRegion Region, long Offset, long Length)> extents)
    {
        var hash = new XxHash3();
        foreach (var (region, offset, length) in extents)
        {
            const int Step = 64 << 20;
            for (long done = 0; done < length; done += Step)
            {
                hash.Append(RegionMemory.Span(region, offset + done, (int)Math.Min(Step, length - done)));
            }
        }
        return hash.GetCurrentHashAsUInt64();
    }
}
