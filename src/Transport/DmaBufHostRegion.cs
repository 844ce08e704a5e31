using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PdRdma.Interop.DmaBuf;
using PdRdma.Interop.Libc;

namespace PdRdma.Transport;

/// <summary>
/// Host memory that the kernel also hands out as a dma-buf: the stand-in for device memory when testing dma-buf
/// consumers (the verbs backend's <c>ibv_reg_dmabuf_mr</c>) on a machine without a GPU. Backed by udmabuf (a sealed
/// memfd, <c>/dev/udmabuf</c>) where the kernel has it, else by a vgem dumb buffer (<c>/dev/dri/card*</c> of the vgem
/// driver). <see cref="IMemoryRegion.Kind"/> is <see cref="MemoryKind.Host"/>: the bytes are ordinary memory, mapped here.
/// </summary>
public sealed unsafe class DmaBufHostRegion : IDeviceMemory
{
    private readonly SafeFileHandle _dmaBuf;
    private readonly SafeFileHandle? _memfd;
    private readonly MappedMemoryHandle _mapping;

    private DmaBufHostRegion(string id, string source, SafeFileHandle dmaBuf, SafeFileHandle? memfd, MappedMemoryHandle mapping, long length)
    {
        Id = id;
        Source = source;
        _dmaBuf = dmaBuf;
        _memfd = memfd;
        _mapping = mapping;
        Length = length;
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public MemoryKind Kind => MemoryKind.Host;

    /// <inheritdoc />
    public long Length { get; }

    /// <inheritdoc />
    public nint Address => _mapping.Address;

    /// <inheritdoc />
    public string? SharedPath => null;

    /// <summary>Where the dma-buf comes from: "udmabuf" or "vgem (/dev/dri/cardN)".</summary>
    public string Source { get; }

    /// <summary>
    /// Allocates <paramref name="length"/> zeroed bytes through udmabuf, else vgem. Neither present:
    /// <see cref="TransferErrorCode.DeviceUnavailable"/> naming both and how to get them.
    /// </summary>
    public static DmaBufHostRegion Create(string id, long length)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        var why = new List<string>();
        if (File.Exists("/dev/udmabuf")) return CreateUdmabuf(id, length);
        why.Add("no /dev/udmabuf (kernel without CONFIG_UDMABUF, e.g. Debian's 6.1)");
        if (FindVgemCard() is { } card) return CreateVgem(id, length, card);
        why.Add("no vgem DRM device (modprobe vgem)");
        throw new TransferException(TransferErrorCode.DeviceUnavailable, $"no dma-buf source for host memory: {string.Join("; ", why)}");
    }

    private static DmaBufHostRegion CreateUdmabuf(string id, long length)
    {
        long size = RoundUp(length, Environment.SystemPageSize);
        var memfd = DmaBufSources.CreateSealedMemfd("pdrdma-" + id, size) ?? throw Failed("memfd_create/ftruncate/F_SEAL_SHRINK", id);
        try
        {
            using var device = File.OpenHandle("/dev/udmabuf", FileMode.Open, FileAccess.ReadWrite);
            var dmaBuf = DmaBufSources.UdmabufFromMemfd(device, memfd, size) ?? throw Failed("UDMABUF_CREATE", id);
            var mapping = DmaBufSources.MapShared(memfd, size);
            if (mapping is null) { var e = Failed("mmap(memfd)", id); dmaBuf.Dispose(); throw e; }
            return new DmaBufHostRegion(id, "udmabuf", dmaBuf, memfd, mapping, length);
        }
        catch
        {
            memfd.Dispose();
            throw;
        }
    }

    private static DmaBufHostRegion CreateVgem(string id, long length, string card)
    {
        using var device = File.OpenHandle(card, FileMode.Open, FileAccess.ReadWrite);
        var dmaBuf = DmaBufSources.DumbBufferAsDmaBuf(device, length, out long allocated) ?? throw Failed($"vgem dumb buffer on {card}", id);
        var mapping = allocated >= length ? DmaBufSources.MapShared(dmaBuf, length) : null;
        if (mapping is null)
        {
            var e = allocated < length ? new TransferException(TransferErrorCode.DeviceUnavailable, $"vgem gave {allocated} bytes for {length}") : Failed("mmap(dma-buf)", id);
            dmaBuf.Dispose();
            throw e;
        }
        return new DmaBufHostRegion(id, $"vgem ({card})", dmaBuf, null, mapping, length);
    }

    private static string? FindVgemCard()
    {
        if (!Directory.Exists("/sys/class/drm")) return null;
        foreach (var entry in Directory.EnumerateFileSystemEntries("/sys/class/drm", "card*"))
        {
            string name = Path.GetFileName(entry);
            if (!name[4..].All(char.IsAsciiDigit) || name.Length == 4) continue;
            var target = new DirectoryInfo(Path.Combine(entry, "device")).ResolveLinkTarget(returnFinalTarget: true);
            if (target is not null && target.Name == "vgem" && File.Exists("/dev/dri/" + name)) return "/dev/dri/" + name;
        }
        return null;
    }

    private static long RoundUp(long value, long unit) => (value + unit - 1) / unit * unit;

    private static TransferException Failed(string what, string id) =>
        new(TransferErrorCode.DeviceUnavailable, $"dma-buf region '{id}': {what} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    /// <summary>A new descriptor of the region's dma-buf (a duplicate; the caller owns it).</summary>
    public SafeFileHandle ExportDmaBuf() =>
        Descriptors.Duplicate(_dmaBuf) ?? throw new TransferException(TransferErrorCode.DeviceUnavailable, $"dma-buf region '{Id}': dup failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    /// <inheritdoc />
    public void Read(long offset, Span<byte> destination) => Span(offset, destination.Length).CopyTo(destination);

    /// <inheritdoc />
    public void Write(long offset, ReadOnlySpan<byte> source) => source.CopyTo(Span(offset, source.Length));

    /// <summary>A view of [offset, offset+length); valid until dispose.</summary>
    public Span<byte> Span(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside dma-buf region '{Id}' of {Length} bytes");
        return new Span<byte>((byte*)Address + offset, length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _mapping.Dispose();
        _dmaBuf.Dispose();
        _memfd?.Dispose();
    }
}
