using System.Runtime.InteropServices;

namespace PdRdma.Native;

/// <summary><c>pdrdma_write_t</c>: one write of a batch (names are NUL-terminated UTF-8, borrowed for the call).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PdrdmaWrite
{
    public byte* source_region;
    public ulong source_offset;
    public byte* target_region;
    public ulong target_offset;
    public ulong length;
}
