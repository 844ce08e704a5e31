using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_comp_channel")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_comp_channel
{
    public nint context;
    public int fd;
    public int refcnt;
}
