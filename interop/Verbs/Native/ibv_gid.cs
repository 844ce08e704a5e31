using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("union ibv_gid")]
[StructLayout(LayoutKind.Explicit)]
public unsafe struct ibv_gid
{
    [FieldOffset(0)] public fixed byte raw[16];
    [FieldOffset(0)] public global_t global;

    [CAnonymous]
    [StructLayout(LayoutKind.Sequential)]
    public struct global_t
    {
        public ulong subnet_prefix;
        public ulong interface_id;
    }
}
