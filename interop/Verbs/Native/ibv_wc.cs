using System.Runtime.InteropServices;

namespace PdRdma.Interop.Verbs.Native;

/// <summary>A work completion. <see cref="imm_data"/> is in network byte order.</summary>
[CType("struct ibv_wc")]
[StructLayout(LayoutKind.Explicit)]
public struct ibv_wc
{
    [FieldOffset(0)] public ulong wr_id;
    [FieldOffset(8)] public ibv_wc_status status;
    [FieldOffset(12)] public ibv_wc_opcode opcode;
    [FieldOffset(16)] public uint vendor_err;
    [FieldOffset(20)] public uint byte_len;
    [FieldOffset(24)] public uint imm_data;
    [FieldOffset(24)] public uint invalidated_rkey;
    [FieldOffset(28)] public uint qp_num;
    [FieldOffset(32)] public uint src_qp;
    [FieldOffset(36)] public uint wc_flags;
    [FieldOffset(40)] public ushort pkey_index;
    [FieldOffset(42)] public ushort slid;
    [FieldOffset(44)] public byte sl;
    [FieldOffset(45)] public byte dlid_path_bits;
}
