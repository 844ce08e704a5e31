using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_qp")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ibv_qp
{
    public ibv_context* context;
    public nint qp_context;
    public nint pd;
    public nint send_cq;
    public nint recv_cq;
    public nint srq;
    public uint handle;
    public uint qp_num;
    public ibv_qp_state state;
    public ibv_qp_type qp_type;
    public pthread_mutex_t mutex;
    public pthread_cond_t cond;
    public uint events_completed;
}
