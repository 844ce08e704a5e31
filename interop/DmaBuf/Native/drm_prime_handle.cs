#pragma warning disable CS8981 // named as in C
using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.DmaBuf.Native;

/// <summary>Argument of DRM_IOCTL_PRIME_HANDLE_TO_FD (drm.h): exports a buffer object as a dma-buf descriptor.</summary>
[CType("struct drm_prime_handle")]
[StructLayout(LayoutKind.Sequential)]
public struct drm_prime_handle
{
    public uint handle;
    public uint flags;
    public int fd;
}
