#pragma warning disable CS8981 // named as in C
using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.Libc.Native;

/// <summary>Header of one control message; its data (here: file descriptors) follows at offset sizeof(cmsghdr).</summary>
[CType("struct cmsghdr")]
[StructLayout(LayoutKind.Sequential)]
public struct cmsghdr
{
    public nuint cmsg_len;
    public int cmsg_level;
    public int cmsg_type;
}
