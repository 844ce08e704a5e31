using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Transport.LevelZero.Internal;

namespace PdRdma.Transport.LevelZero;

/// <summary>
/// Moves bytes between another vendor's device region (a CUDA region on the same host) and Level Zero device regions:
/// the other region's dma-buf imported into Level Zero where the driver takes it (the XPU then copies both ways,
/// peer to peer over PCIe), else through a host bounce buffer. The choice is made once, at <see cref="Attach"/>, and
/// logged. CUDA's driver API cannot import a dma-buf, so the Level Zero import carries both directions. Owns the
/// imported mapping and the bounce buffer, not the regions. Not thread-safe.
/// </summary>
public sealed class CrossVendorLink : IDisposable
{
    private const int BounceBytes = 8 << 20;
    private readonly LevelZeroDeviceRegion? _imported;
    private readonly byte[]? _bounce;

    private CrossVendorLink(IDeviceMemory source, CrossVendorPath path, LevelZeroDeviceRegion? imported, string reason)
    {
        Source = source;
        Path = path;
        Reason = reason;
        _imported = imported;
        _bounce = imported is null ? GC.AllocateUninitializedArray<byte>(BounceBytes, pinned: true) : null;
    }

    public IDeviceMemory Source { get; }

    public CrossVendorPath Path { get; }

    /// <summary>Why this path: "dma-buf imported", or what refused the import.</summary>
    public string Reason { get; }

    /// <summary>Chooses the path for <paramref name="source"/> and <paramref name="xpu"/>: dma-buf import when both drivers can, else host staging.</summary>
    public static CrossVendorLink Attach(IDeviceMemory source, LevelZeroDevice xpu, bool allowDmaBuf = true, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(xpu);
        CrossVendorLink link;
        if (!allowDmaBuf)
        {
            link = new CrossVendorLink(source, CrossVendorPath.HostStaged, null, "dma-buf import not allowed by the caller");
        }
        else
        {
            try
            {
                using var fd = source.ExportDmaBuf();
                var imported = LevelZeroDeviceRegion.ImportDmaBuf(xpu, source.Id + "@xpu", fd, source.Length);
                link = new CrossVendorLink(source, CrossVendorPath.DmaBufImport, imported, "dma-buf exported by the source and imported by Level Zero");
            }
            catch (TransferException e)
            {
                link = new CrossVendorLink(source, CrossVendorPath.HostStaged, null, $"dma-buf path refused ({e.Code}: {e.Message})");
            }
        }
        LevelZeroLog.CrossVendor(logger ?? NullLogger.Instance, source.Id, xpu.ToString(), link.Path, link.Reason);
        return link;
    }

    /// <summary>Copies [sourceOffset, +length) of the source region into <paramref name="target"/> at <paramref name="targetOffset"/>.</summary>
    public void CopyToXpu(long sourceOffset, LevelZeroDeviceRegion target, long targetOffset, long length)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (_imported is not null)
        {
            target.CopyFrom(_imported, sourceOffset, targetOffset, length);
            return;
        }
        for (long done = 0; done < length;)
        {
            var span = _bounce.AsSpan(0, (int)Math.Min(BounceBytes, length - done));
            Source.Read(sourceOffset + done, span);
            target.Write(targetOffset + done, span);
            done += span.Length;
        }
    }

    /// <summary>Copies [sourceOffset, +length) of <paramref name="source"/> into the other vendor's region at <paramref name="targetOffset"/>.</summary>
    public void CopyFromXpu(LevelZeroDeviceRegion source, long sourceOffset, long targetOffset, long length)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (_imported is not null)
        {
            _imported.CopyFrom(source, sourceOffset, targetOffset, length);
            return;
        }
        for (long done = 0; done < length;)
        {
            var span = _bounce.AsSpan(0, (int)Math.Min(BounceBytes, length - done));
            source.Read(sourceOffset + done, span);
            Source.Write(targetOffset + done, span);
            done += span.Length;
        }
    }

    public void Dispose() => _imported?.Dispose();
}
