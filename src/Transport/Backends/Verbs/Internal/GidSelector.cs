using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>Picks the GID a RoCE connection should use: RoCE v2 (routable UDP), IPv4-mapped first, as perftest does.</summary>
internal static class GidSelector
{
    public static (int Index, byte[] Gid)? Select(IbvContextHandle context, byte port, int tableLength)
    {
        (int, byte[])? fallback = null;
        for (uint index = 0; index < tableLength; index++)
        {
            if (Ibv.QueryGidEntry(context, port, index, out var entry) != 0) continue;
            if (entry.gid_type != ibv_gid_type.IBV_GID_TYPE_ROCE_V2) continue;
            byte[] gid = ToBytes(entry.gid);
            if (gid.All(b => b == 0)) continue;
            if (IsIpv4Mapped(gid)) return ((int)index, gid);
            fallback ??= ((int)index, gid);
        }
        return fallback;
    }

    public static unsafe byte[] ToBytes(ibv_gid gid) => new ReadOnlySpan<byte>(gid.raw, 16).ToArray();

    public static unsafe ibv_gid FromBytes(byte[] bytes)
    {
        var gid = new ibv_gid();
        bytes.AsSpan(0, 16).CopyTo(new Span<byte>(gid.raw, 16));
        return gid;
    }

    private static bool IsIpv4Mapped(byte[] gid) => gid.AsSpan(0, 10).IndexOfAnyExcept((byte)0) < 0 && gid[10] == 0xff && gid[11] == 0xff;

    public static string Format(byte[] gid) => IsIpv4Mapped(gid) ? $"::ffff:{gid[12]}.{gid[13]}.{gid[14]}.{gid[15]}" : Convert.ToHexString(gid);
}
