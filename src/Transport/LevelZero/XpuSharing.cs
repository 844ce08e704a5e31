using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using PdRdma.Transport.LevelZero.Internal;

namespace PdRdma.Transport.LevelZero;

/// <summary>
/// Shares a Level Zero device region with another process on this host over a connected Unix SOCK_SEQPACKET socket:
/// the owner offers paths best first (IPC handle, dma-buf, host staging), each with its descriptor attached
/// (SCM_RIGHTS: nothing is opened by name), and the peer accepts the first it can use or says why not. The choice is
/// logged on both sides. Blocking calls: the socket's ReceiveTimeout bounds every wait.
/// </summary>
public static class XpuSharing
{
    private const int MaxOffers = 16;

    /// <summary>Every path, best first.</summary>
    public static IReadOnlyList<XpuSharePath> AllPaths { get; } = [XpuSharePath.SameDeviceIpc, XpuSharePath.DmaBuf, XpuSharePath.HostStaged];

    /// <summary>
    /// Offers <paramref name="region"/> over <paramref name="socket"/> by each of <paramref name="paths"/> in turn; returns
    /// the session of the path the peer accepted. Unsupported when none worked (each reason in the message).
    /// </summary>
    public static XpuShareSession Offer(Socket socket, LevelZeroDeviceRegion region, IReadOnlyList<XpuSharePath>? paths = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(region);
        var log = logger ?? NullLogger.Instance;
        var reasons = new List<string>();
        foreach (var path in paths ?? AllPaths)
        {
            HostRegion? staging = null;
            SafeFileHandle descriptor;
            try
            {
                (descriptor, staging) = Export(region, path);
            }
            catch (TransferException e) when (e.Code is TransferErrorCode.Unsupported or TransferErrorCode.DeviceUnavailable)
            {
                reasons.Add($"{path}: {e.Message}");
                LevelZeroLog.PathRefused(log, region.Id, path, "here: " + e.Message);
                continue;
            }
            using (descriptor)
            {
                var offer = new ShareOffer { Path = path, RegionId = region.Id, Length = region.Length, DeviceUuid = [.. region.Device.Uuid] };
                ShareWire.Send(socket, offer, descriptor);
            }
            var reply = ShareWire.Receive<ShareReply>(socket, out var stray);
            stray?.Dispose();
            if (reply.Accepted)
            {
                LevelZeroLog.Shared(log, region.Id, path, reasons.Count == 0 ? "first choice" : "after " + string.Join("; ", reasons));
                return new XpuShareSession(region, path, staging);
            }
            staging?.Dispose();
            reasons.Add($"{path}: peer: {reply.Error}");
            LevelZeroLog.PathRefused(log, region.Id, path, "peer: " + reply.Error);
        }
        throw new TransferException(TransferErrorCode.Unsupported, $"region '{region.Id}' could not be shared: {string.Join("; ", reasons)}");
    }

    /// <summary>
    /// The peer side: takes offers until one is usable here. <paramref name="device"/> may be null (no XPU in this
    /// process: only host staging works). Offers longer than <paramref name="maxLength"/>, from another version, or
    /// naming another device for IPC are refused with the reason.
    /// </summary>
    public static XpuPeerWindow Accept(Socket socket, LevelZeroDevice? device, long maxLength, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var log = logger ?? NullLogger.Instance;
        for (var attempt = 0; ; attempt++)
        {
            if (attempt == MaxOffers) throw new TransferException(TransferErrorCode.Protocol, $"the owner made {MaxOffers} offers; none was usable");
            var offer = ShareWire.Receive<ShareOffer>(socket, out var descriptor);
            try
            {
                var window = Open(offer, descriptor, device, maxLength);
                ShareWire.Send(socket, new ShareReply { Accepted = true }, null);
                LevelZeroLog.Shared(log, offer.RegionId, offer.Path, "accepted from the owner");
                return window;
            }
            catch (TransferException e)
            {
                LevelZeroLog.PathRefused(log, offer.RegionId, offer.Path, e.Message);
                ShareWire.Send(socket, new ShareReply { Accepted = false, Error = $"{e.Code}: {e.Message}" }, null);
            }
            finally
            {
                descriptor?.Dispose();
            }
        }
    }

    private static (SafeFileHandle Descriptor, HostRegion? Staging) Export(LevelZeroDeviceRegion region, XpuSharePath path)
    {
        switch (path)
        {
            case XpuSharePath.SameDeviceIpc:
                return (region.ExportIpc(), null);
            case XpuSharePath.DmaBuf:
                return (region.ExportDmaBuf(), null);
            case XpuSharePath.HostStaged:
                var staging = HostRegion.Create(region.Id + "-staging", region.Length);
                try
                {
                    region.CopyToHost(0, staging, 0, region.Length);
                    return (File.OpenHandle(staging.SharedPath!, FileMode.Open, FileAccess.ReadWrite), staging);
                }
                catch
                {
                    staging.Dispose();
                    throw;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(path), path, "unknown share path");
        }
    }

    private static XpuPeerWindow Open(ShareOffer offer, SafeFileHandle? descriptor, LevelZeroDevice? device, long maxLength)
    {
        if (offer.Version != ShareOffer.CurrentVersion)
        {
            throw new TransferException(TransferErrorCode.VersionMismatch, $"share offer version {offer.Version}, this side speaks {ShareOffer.CurrentVersion}");
        }
        if (string.IsNullOrWhiteSpace(offer.RegionId) || offer.RegionId.Length > 200)
        {
            throw new TransferException(TransferErrorCode.Protocol, "share offer without a usable region id");
        }
        if (offer.Length <= 0 || offer.Length > maxLength)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"share offer of {offer.Length} bytes; this side takes at most {maxLength}");
        }
        if (descriptor is null) throw new TransferException(TransferErrorCode.Protocol, "share offer without a descriptor");
        switch (offer.Path)
        {
            case XpuSharePath.SameDeviceIpc:
                if (device is null) throw new TransferException(TransferErrorCode.Unsupported, "no Level Zero device in this process");
                if (!device.Uuid.SequenceEqual(offer.DeviceUuid))
                {
                    throw new TransferException(TransferErrorCode.Unsupported, $"the region lives on device {Convert.ToHexString(offer.DeviceUuid)}, this process uses {Convert.ToHexString([.. device.Uuid])}");
                }
                return new XpuPeerWindow(offer.RegionId, offer.Length, offer.Path, LevelZeroDeviceRegion.OpenIpc(device, offer.RegionId, descriptor, offer.Length));
            case XpuSharePath.DmaBuf:
                if (device is null) throw new TransferException(TransferErrorCode.Unsupported, "no Level Zero device in this process to import a dma-buf");
                return new XpuPeerWindow(offer.RegionId, offer.Length, offer.Path, LevelZeroDeviceRegion.ImportDmaBuf(device, offer.RegionId, descriptor, offer.Length));
            case XpuSharePath.HostStaged:
                return OpenStaging(offer, descriptor);
            default:
                throw new TransferException(TransferErrorCode.Unsupported, $"unknown share path {(int)offer.Path}");
        }
    }

    private static XpuPeerWindow OpenStaging(ShareOffer offer, SafeFileHandle descriptor)
    {
        SafeFileHandle? copy = null;
        try
        {
            // A pipe or socket has no length (or 0) and is refused here; only what holds the offered bytes is mapped.
            var size = RandomAccess.GetLength(descriptor);
            if (size < offer.Length) throw new TransferException(TransferErrorCode.OutOfBounds, $"staging file holds {size} bytes, {offer.Length} offered");
            copy = Interop.Libc.Descriptors.Duplicate(descriptor) ?? throw new IOException("dup of the staging descriptor failed");
            return new XpuPeerWindow(offer.RegionId, offer.Length, copy);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            copy?.Dispose();
            throw new TransferException(TransferErrorCode.Protocol, $"the staging descriptor cannot be mapped: {e.Message}", e);
        }
    }
}
