using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_port_attr")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_port_attr
{
    public ibv_port_state state;
    public ibv_mtu max_mtu;
    public ibv_mtu active_mtu;
    public int gid_tbl_len;
    public uint port_cap_flags;
    public uint max_msg_sz;
    public uint bad_pkey_cntr;
    public uint qkey_viol_cntr;
    public ushort pkey_tbl_len;
    public ushort lid;
    public ushort sm_lid;
    public byte lmc;
    public byte max_vl_num;
    public byte sm_sl;
    public byte subnet_timeout;
    public byte init_type_reply;
    public byte active_width;
    public byte active_speed;
    public byte phys_state;
    public byte link_layer;
    public byte flags;
    public ushort port_cap_flags2;
}
