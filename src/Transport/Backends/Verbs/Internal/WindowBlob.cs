using MessagePack;
using PdRdma.Transport.Serialization;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>The memory windows of one grant as they travel in the grant's window reply (MessagePack, integer keys).</summary>
internal static class WindowBlob
{
    private static readonly MessagePackSerializerOptions Untrusted = MessagePackSerializerOptions.Standard
        .WithResolver(ReflectionFormatterResolver.ForRuntime(allowPrivate: false)).WithSecurity(MessagePackSecurity.UntrustedData);

    public static byte[] Write(IReadOnlyList<VerbsWindow> windows) => MessagePackSerializer.Serialize(windows, Untrusted);

    /// <summary>
    /// Reads a peer's windows for <paramref name="grant"/>, sorted by region and offset. Every window must lie inside the
    /// grant's extents: a target that hands out keys for more than it granted is refused.
    /// </summary>
    /// <exception cref="TransferException">Protocol: unreadable, none, more than <paramref name="max"/>, malformed, or outside the grant.</exception>
    public static VerbsWindow[] Read(byte[]? blob, GrantWindow grant, string peer, int max)
    {
        VerbsWindow[]? windows;
        try
        {
            windows = blob is null ? null : MessagePackSerializer.Deserialize<VerbsWindow[]>(blob, Untrusted);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"{peer} sent unreadable memory windows for grant '{grant.Grant}' ({blob!.Length} bytes): {ex.Message}");
        }
        if (windows is null || windows.Length == 0 || windows.Length > max)
            throw new TransferException(TransferErrorCode.Protocol, $"{peer} sent {windows?.Length ?? 0} memory windows for grant '{grant.Grant}' (1 to {max} expected)");
        foreach (var w in windows)
        {
            if (w is null || w.RegionId is null || w.Offset < 0 || w.Length <= 0 || w.Offset > long.MaxValue - w.Length)
                throw new TransferException(TransferErrorCode.Protocol, $"{peer} sent a malformed memory window for grant '{grant.Grant}'");
            if (!InsideGrant(grant, w))
                throw new TransferException(TransferErrorCode.Protocol, $"{peer} sent a memory window [{w.Offset}, +{w.Length}) of '{w.RegionId}' outside grant '{grant.Grant}'");
        }
        Array.Sort(windows, static (a, b) => string.CompareOrdinal(a.RegionId, b.RegionId) is var c && c != 0 ? c : a.Offset.CompareTo(b.Offset));
        return windows;
    }

    /// <summary>
    /// A window may span several extents and the gaps between them (when the target closed gaps to stay under its window
    /// cap), but not reach before the first or past the last extent of its region.
    /// </summary>
    private static bool InsideGrant(GrantWindow grant, VerbsWindow w)
    {
        long first = long.MaxValue, end = long.MinValue;
        foreach (var e in grant.Extents)
        {
            if (!string.Equals(e.RegionId, w.RegionId, StringComparison.Ordinal)) continue;
            first = Math.Min(first, e.Offset);
            end = Math.Max(end, e.Offset + e.Length);
        }
        return w.Offset >= first && w.Offset + w.Length <= end;
    }
}
