using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

/// <summary>A memory window: a remote key over part of a registration, bound and invalidated on a queue pair (type 2).</summary>
[CType("struct ibv_mw")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ibv_mw
{
    public ibv_context* context;
    public nint pd;
    public uint rkey;
    public uint handle;
    public ibv_mw_type type;
}
