#pragma warning disable CS8981 // named as in C
using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.DmaBuf.Native;

/// <summary>Argument of DRM_IOCTL_MODE_CREATE_DUMB (drm_mode.h): a linear buffer object of height × pitch bytes.</summary>
[CType("struct drm_mode_create_dumb")]
[StructLayout(LayoutKind.Sequential)]
public struct drm_mode_create_dumb
{
    public uint height;
    public uint width;
    public uint bpp;
    public uint flags;
    public uint handle;
    public uint pitch;
    public ulong size;
}
