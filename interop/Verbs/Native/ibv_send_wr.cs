using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

/// <summary>A send work request. <see cref="imm_data"/> is in network byte order.</summary>
[CType("struct ibv_send_wr")]
[StructLayout(LayoutKind.Explicit)]
public unsafe struct ibv_send_wr
{
    [FieldOffset(0)] public ulong wr_id;
    [FieldOffset(8)] public ibv_send_wr* next;
    [FieldOffset(16)] public ibv_sge* sg_list;
    [FieldOffset(24)] public int num_sge;
    [FieldOffset(28)] public ibv_wr_opcode opcode;
    [FieldOffset(32)] public ibv_send_flags send_flags;
    [FieldOffset(36)] public uint imm_data;
    [FieldOffset(36)] public uint invalidate_rkey;
    [FieldOffset(40)] public wr_t wr;
    [FieldOffset(72)] public qp_type_t qp_type;
    [FieldOffset(80)] public bind_mw_t bind_mw;
    [FieldOffset(80)] public tso_t tso;

    [CAnonymous]
    [StructLayout(LayoutKind.Explicit)]
    public struct wr_t
    {
        [FieldOffset(0)] public rdma_t rdma;
        [FieldOffset(0)] public atomic_t atomic;
        [FieldOffset(0)] public ud_t ud;
    }

    [CAnonymous]
    [StructLayout(LayoutKind.Sequential)]
    public struct rdma_t
    {
        public ulong remote_addr;
        public uint rkey;
    }

    [CAnonymous]
    [StructLayout(LayoutKind.Sequential)]
    public struct atomic_t
    {
        public ulong remote_addr;
        public ulong compare_add;
        public ulong swap;
        public uint rkey;
    }

    [CAnonymous]
    [StructLayout(LayoutKind.Sequential)]
    public struct ud_t
    {
        public nint ah;
        public uint remote_qpn;
        public uint remote_qkey;
    }

    [CAnonymous]
    [StructLayout(LayoutKind.Sequential)]
    public struct qp_type_t
    {
        public xrc_t xrc;
    }

    [CAnonymous]
    [StructLayout(LayoutKind.Sequential)]
    public struct xrc_t
    {
        public uint remote_srqn;
    }

    [CAnonymous]
    [StructLayout(LayoutKind.Sequential)]
    public struct bind_mw_t
    {
        public nint mw;
        public uint rkey;
        public ibv_mw_bind_info bind_info;
    }

    [CAnonymous]
    [StructLayout(LayoutKind.Sequential)]
    public struct tso_t
    {
        public nint hdr;
        public ushort hdr_sz;
        public ushort mss;
    }
}
