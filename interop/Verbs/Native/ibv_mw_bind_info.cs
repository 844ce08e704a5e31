using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_mw_bind_info")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_mw_bind_info
{
    public nint mr;
    public ulong addr;
    public ulong length;
    public uint mw_access_flags;
}
