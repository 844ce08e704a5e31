using System.Runtime.InteropServices;

namespace PdRdma.Hosting.Transfer;

/// <summary>A deterministic, non-repeating fill so that a misplaced or missing byte changes the region's hash.</summary>
public static class TransferPattern
{
    /// <summary>Touches every page so that later writes measure the transfer, not first-touch page allocation.</summary>
    public static void Prefault(PdRdma.Transport.HostRegion region)
    {
        for (long offset = 0; offset < region.Length; offset += 4096) region.AsSpan(offset, 1)[0] = 0;
    }

    /// <summary>Fills <paramref name="bytes"/> as the bytes at <paramref name="baseOffset"/> of a region filled with <paramref name="seed"/>.</summary>
    public static void Fill(Span<byte> bytes, ulong seed, long baseOffset = 0)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        var first = (ulong)(baseOffset / 8);
        for (var i = 0; i < words.Length; i++)
        {
            var x = (first + (ulong)i + 1) * 0x9E3779B97F4A7C15UL ^ seed;
            x ^= x >> 29;
            words[i] = x * 0xBF58476D1CE4E5B9UL;
        }
        for (var i = words.Length * 8; i < bytes.Length; i++) bytes[i] = (byte)(seed + (ulong)i);
    }
}
