using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PdRdma.Interop.DmaBuf.Native;

namespace PdRdma.Interop.DmaBuf;

/// <summary>
/// Kernel interfaces that hand out a dma-buf over ordinary memory, for testing dma-buf consumers (ibv_reg_dmabuf_mr)
/// without a GPU: udmabuf (a sealed memfd range, <c>/dev/udmabuf</c>, CONFIG_UDMABUF) and vgem (a DRM dumb buffer
/// exported through PRIME, <c>vgem.ko</c>). Each call returns -1 / null with errno in
/// <see cref="Marshal.GetLastPInvokeError"/> when the kernel refuses.
/// </summary>
public static unsafe partial class DmaBufSources
{
    /// <summary>_IOW('u', 0x42, struct udmabuf_create).</summary>
    public const uint UdmabufCreate = 0x40187542;

    /// <summary>DRM_IOWR(0xB2, struct drm_mode_create_dumb).</summary>
    public const uint DrmIoctlModeCreateDumb = 0xC02064B2;

    /// <summary>DRM_IOWR(0x2d, struct drm_prime_handle).</summary>
    public const uint DrmIoctlPrimeHandleToFd = 0xC00C642D;

    /// <summary>DRM_IOW(0x09, struct drm_gem_close).</summary>
    public const uint DrmIoctlGemClose = 0x40086409;

    private const uint MfdCloexec = 1, MfdAllowSealing = 2;
    private const int FAddSeals = 1033, FSealShrink = 2;
    private const int ProtRead = 1, ProtWrite = 2, MapSharedFlag = 1;
    private const int OCloexec = 0x80000, ORdwr = 2;

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int ioctl(SafeHandle fd, nuint request, void* argument);

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int fcntl(SafeHandle fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int ftruncate(SafeHandle fd, long length);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, SafeHandle fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    internal static partial int munmap(nint address, nuint length);

    /// <summary>A memfd of <paramref name="length"/> bytes sealed against shrinking (what udmabuf requires); null on failure.</summary>
    public static SafeFileHandle? CreateSealedMemfd(string name, long length)
    {
        var fd = new SafeFileHandle(memfd_create(name, MfdCloexec | MfdAllowSealing), ownsHandle: true);
        if (fd.IsInvalid) return null;
        if (ftruncate(fd, length) != 0 || fcntl(fd, FAddSeals, FSealShrink) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            fd.Dispose();
            Marshal.SetLastPInvokeError(errno);
            return null;
        }
        return fd;
    }

    /// <summary>UDMABUF_CREATE on an open <c>/dev/udmabuf</c>: a dma-buf over [0, length) of the memfd; null on failure.</summary>
    public static SafeFileHandle? UdmabufFromMemfd(SafeFileHandle udmabufDevice, SafeFileHandle memfd, long length)
    {
        var create = new udmabuf_create { memfd = (uint)memfd.DangerousGetHandle(), flags = 1 /* UDMABUF_FLAGS_CLOEXEC */, offset = 0, size = (ulong)length };
        int fd = ioctl(udmabufDevice, UdmabufCreate, &create);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// A dumb buffer of at least <paramref name="length"/> bytes on an open DRM device (vgem), exported as a read-write
    /// dma-buf; the buffer object lives as long as the dma-buf. Null on failure.
    /// </summary>
    public static SafeFileHandle? DumbBufferAsDmaBuf(SafeFileHandle drmDevice, long length, out long allocated)
    {
        allocated = 0;
        const uint Pitch = 1 << 16; // 64 KiB rows of 32-bit pixels
        var dumb = new drm_mode_create_dumb { width = Pitch / 4, bpp = 32, height = (uint)((length + Pitch - 1) / Pitch) };
        if (ioctl(drmDevice, DrmIoctlModeCreateDumb, &dumb) != 0) return null;
        var prime = new drm_prime_handle { handle = dumb.handle, flags = OCloexec | ORdwr, fd = -1 };
        int rc = ioctl(drmDevice, DrmIoctlPrimeHandleToFd, &prime);
        int errno = Marshal.GetLastPInvokeError();
        var close = new drm_gem_close { handle = dumb.handle };
        _ = ioctl(drmDevice, DrmIoctlGemClose, &close); // the dma-buf keeps the object alive
        if (rc != 0) { Marshal.SetLastPInvokeError(errno); return null; }
        allocated = (long)dumb.size;
        return new SafeFileHandle(prime.fd, ownsHandle: true);
    }

    /// <summary>Maps [0, length) of a memfd or dma-buf read-write and shared; null on failure.</summary>
    public static MappedMemoryHandle? MapShared(SafeFileHandle fd, long length)
    {
        nint address = mmap(0, (nuint)length, ProtRead | ProtWrite, MapSharedFlag, fd, 0);
        return address == -1 ? null : new MappedMemoryHandle(address, (nuint)length);
    }
}
