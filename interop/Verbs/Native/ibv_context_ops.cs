using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

/// <summary>
/// The provider's function table. verbs.h implements ibv_post_send, ibv_post_recv, ibv_poll_cq and
/// ibv_req_notify_cq as inline calls through these pointers, so the binding calls them the same way.
/// </summary>
[CType("struct ibv_context_ops")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_context_ops
{
    public nint _compat_query_device;
    public nint _compat_query_port;
    public nint _compat_alloc_pd;
    public nint _compat_dealloc_pd;
    public nint _compat_reg_mr;
    public nint _compat_rereg_mr;
    public nint _compat_dereg_mr;
    public nint alloc_mw;
    public nint bind_mw;
    public nint dealloc_mw;
    public nint _compat_create_cq;
    public nint poll_cq;
    public nint req_notify_cq;
    public nint _compat_cq_event;
    public nint _compat_resize_cq;
    public nint _compat_destroy_cq;
    public nint _compat_create_srq;
    public nint _compat_modify_srq;
    public nint _compat_query_srq;
    public nint _compat_destroy_srq;
    public nint post_srq_recv;
    public nint _compat_create_qp;
    public nint _compat_query_qp;
    public nint _compat_modify_qp;
    public nint _compat_destroy_qp;
    public nint post_send;
    public nint post_recv;
    public nint _compat_create_ah;
    public nint _compat_destroy_ah;
    public nint _compat_attach_mcast;
    public nint _compat_detach_mcast;
    public nint _compat_async_event;
}
