using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_qp_init_attr")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_qp_init_attr
{
    public nint qp_context;
    public nint send_cq;
    public nint recv_cq;
    public nint srq;
    public ibv_qp_cap cap;
    public ibv_qp_type qp_type;
    public int sq_sig_all;
}
