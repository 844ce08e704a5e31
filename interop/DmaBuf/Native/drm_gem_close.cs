#pragma warning disable CS8981 // named as in C
using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.DmaBuf.Native;

/// <summary>Argument of DRM_IOCTL_GEM_CLOSE (drm.h): drops this file's handle on a buffer object.</summary>
[CType("struct drm_gem_close")]
[StructLayout(LayoutKind.Sequential)]
public struct drm_gem_close
{
    public uint handle;
    public uint pad;
}
