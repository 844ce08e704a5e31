using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_qp_attr")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_qp_attr
{
    public ibv_qp_state qp_state;
    public ibv_qp_state cur_qp_state;
    public ibv_mtu path_mtu;
    public int path_mig_state;
    public uint qkey;
    public uint rq_psn;
    public uint sq_psn;
    public uint dest_qp_num;
    public ibv_access_flags qp_access_flags;
    public ibv_qp_cap cap;
    public ibv_ah_attr ah_attr;
    public ibv_ah_attr alt_ah_attr;
    public ushort pkey_index;
    public ushort alt_pkey_index;
    public byte en_sqd_async_notify;
    public byte sq_draining;
    public byte max_rd_atomic;
    public byte max_dest_rd_atomic;
    public byte min_rnr_timer;
    public byte port_num;
    public byte timeout;
    public byte retry_cnt;
    public byte rnr_retry;
    public byte alt_port_num;
    public byte alt_timeout;
    public uint rate_limit;
}
