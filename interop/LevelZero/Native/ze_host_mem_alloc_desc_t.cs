using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.LevelZero.Native;

[CType("ze_host_mem_alloc_desc_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ze_host_mem_alloc_desc_t
{
    public ze_structure_type_t stype;
    public void* pNext;
    public uint flags;
}
