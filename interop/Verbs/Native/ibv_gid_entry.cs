using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_gid_entry")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_gid_entry
{
    public ibv_gid gid;
    public uint gid_index;
    public uint port_num;
    public ibv_gid_type gid_type;
    public uint ndev_ifindex;
}
