using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_async_event")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_async_event
{
    public element_t element;
    public ibv_event_type event_type;

    [CAnonymous]
    [StructLayout(LayoutKind.Explicit)]
    public struct element_t
    {
        [FieldOffset(0)] public nint cq;
        [FieldOffset(0)] public nint qp;
        [FieldOffset(0)] public nint srq;
        [FieldOffset(0)] public nint wq;
        [FieldOffset(0)] public int port_num;
    }
}
