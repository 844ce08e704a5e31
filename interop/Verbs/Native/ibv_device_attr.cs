using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_device_attr")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ibv_device_attr
{
    public fixed byte fw_ver[64];
    public ulong node_guid;
    public ulong sys_image_guid;
    public ulong max_mr_size;
    public ulong page_size_cap;
    public uint vendor_id;
    public uint vendor_part_id;
    public uint hw_ver;
    public int max_qp;
    public int max_qp_wr;
    public uint device_cap_flags;
    public int max_sge;
    public int max_sge_rd;
    public int max_cq;
    public int max_cqe;
    public int max_mr;
    public int max_pd;
    public int max_qp_rd_atom;
    public int max_ee_rd_atom;
    public int max_res_rd_atom;
    public int max_qp_init_rd_atom;
    public int max_ee_init_rd_atom;
    public int atomic_cap;
    public int max_ee;
    public int max_rdd;
    public int max_mw;
    public int max_raw_ipv6_qp;
    public int max_raw_ethy_qp;
    public int max_mcast_grp;
    public int max_mcast_qp_attach;
    public int max_total_mcast_qp_attach;
    public int max_ah;
    public int max_fmr;
    public int max_map_per_fmr;
    public int max_srq;
    public int max_srq_wr;
    public int max_srq_sge;
    public ushort max_pkeys;
    public byte local_ca_ack_delay;
    public byte phys_port_cnt;
}
