using System.IO.Hashing;
using PdRdma.Transport;

namespace PdRdma.Tests.Transport.Support;

/// <summary>Deterministic fills and whole-region hashes for byte-for-byte assertions.</summary>
public static class TestBytes
{
    public static void Fill(HostRegion region, ulong seed, long offset = 0, long? length = null)
    {
        var n = length ?? region.Length - offset;
        for (long done = 0; done < n; done += 1 << 30)
        {
            PdRdma.Hosting.Transfer.TransferPattern.Fill(region.AsSpan(offset + done, (int)Math.Min(1 << 30, n - done)), seed, offset + done);
        }
    }

    public static string Hash(HostRegion region, long offset = 0, long? length = null)
    {
        var n = length ?? region.Length - offset;
        var hash = new XxHash3();
        for (long done = 0; done < n; done += 1 << 30) hash.Append(region.AsSpan(offset + done, (int)Math.Min(1 << 30, n - done)));
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    public static byte[] Copy(HostRegion region, long offset, int length) => region.AsSpan(offset, length).ToArray();
}
