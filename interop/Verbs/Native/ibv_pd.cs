using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_pd")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_pd
{
    public nint context;
    public uint handle;
}
