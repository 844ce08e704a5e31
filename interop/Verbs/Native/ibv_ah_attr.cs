using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

[CType("struct ibv_ah_attr")]
[StructLayout(LayoutKind.Sequential)]
public struct ibv_ah_attr
{
    public ibv_global_route grh;
    public ushort dlid;
    public byte sl;
    public byte src_path_bits;
    public byte static_rate;
    public byte is_global;
    public byte port_num;
}
