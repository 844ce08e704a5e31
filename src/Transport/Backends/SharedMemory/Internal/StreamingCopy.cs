using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>
/// Copies into a peer's region with non-temporal stores: the destination's cache lines are written without being read
/// first (no read-for-ownership) and without evicting this process's working set. A KV batch is thousands of 4-64 KiB
/// blocks, each too small for the runtime's copy to switch to streaming stores by itself, so per block they would cost
/// twice the memory traffic of one large copy. Small copies and unaligned edges use the ordinary copy.
/// Streaming stores are weakly ordered: <see cref="Fence"/> must run before the record that publishes them.
/// </summary>
internal static unsafe class StreamingCopy
{
    /// <summary>Below this, the ordinary copy (the bytes are likely read soon and cache-resident anyway).</summary>
    public const long Threshold = 2048;

    public static bool IsSupported => Avx.IsSupported && Sse.IsSupported;

    /// <summary>One write from a local region into a mapped peer region (both checked by the caller).</summary>
    public static void Copy(IMemoryRegion source, long sourceOffset, HostRegion target, long targetOffset, long length)
    {
        if (source.Kind == MemoryKind.Host && source.Address != 0)
        {
            Copy((byte*)source.Address + sourceOffset, (byte*)target.Address + targetOffset, length);
        }
        else
        {
            PdRdma.Transport.Internal.RegionMemory.Copy(source, sourceOffset, target, targetOffset, length);
        }
    }

    public static void Copy(byte* source, byte* destination, long length)
    {
        if (!IsSupported || length < Threshold)
        {
            Buffer.MemoryCopy(source, destination, length, length);
            return;
        }
        var head = (int)((32 - ((nint)destination & 31)) & 31);
        if (head > 0)
        {
            Buffer.MemoryCopy(source, destination, head, head);
            source += head;
            destination += head;
            length -= head;
        }
        var body = length & ~127L;
        for (long k = 0; k < body; k += 128)
        {
            var a = Vector256.Load(source + k);
            var b = Vector256.Load(source + k + 32);
            var c = Vector256.Load(source + k + 64);
            var d = Vector256.Load(source + k + 96);
            Avx.StoreAlignedNonTemporal(destination + k, a);
            Avx.StoreAlignedNonTemporal(destination + k + 32, b);
            Avx.StoreAlignedNonTemporal(destination + k + 64, c);
            Avx.StoreAlignedNonTemporal(destination + k + 96, d);
        }
        if (length > body) Buffer.MemoryCopy(source + body, destination + body, length - body, length - body);
    }

    /// <summary>sfence: every streaming store so far is globally visible before any later store (the record's publication).</summary>
    public static void Fence()
    {
        if (Sse.IsSupported) Sse.StoreFence();
        else Interlocked.MemoryBarrier();
    }
}
