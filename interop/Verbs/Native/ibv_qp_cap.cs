using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_qp_cap")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_qp_cap
{
    public uint max_send_wr;
    public uint max_recv_wr;
    public uint max_send_sge;
    public uint max_recv_sge;
    public uint max_inline_data;
}
