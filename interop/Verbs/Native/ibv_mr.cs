using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_mr")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_mr
{
    public nint context;
    public nint pd;
    public nint addr;
    public nuint length;
    public uint handle;
    public uint lkey;
    public uint rkey;
}
