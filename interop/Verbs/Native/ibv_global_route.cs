using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_global_route")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_global_route
{
    public ibv_gid dgid;
    public uint flow_label;
    public byte sgid_index;
    public byte hop_limit;
    public byte traffic_class;
}
