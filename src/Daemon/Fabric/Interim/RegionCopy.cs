using PdRdma.Transport;

namespace PdRdma.Daemon.Fabric.Interim;

/// <summary>Copies between a registered region's mapping and managed memory; bounds are checked by the callers.</summary>
internal static unsafe class RegionCopy
{
    public static void CopyIn(this IMemoryRegion region, long offset, ReadOnlySpan<byte> source) =>
        source.CopyTo(new Span<byte>((byte*)region.Address + offset, source.Length));

    public static void CopyOut(this IMemoryRegion region, long offset, Span<byte> destination) =>
        new ReadOnlySpan<byte>((byte*)region.Address + offset, destination.Length).CopyTo(destination);
}
