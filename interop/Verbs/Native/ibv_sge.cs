using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_sge")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_sge
{
    public ulong addr;
    public uint length;
    public uint lkey;
}
