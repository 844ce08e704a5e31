using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_recv_wr")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ibv_recv_wr
{
    public ulong wr_id;
    public ibv_recv_wr* next;
    public ibv_sge* sg_list;
    public int num_sge;
}
