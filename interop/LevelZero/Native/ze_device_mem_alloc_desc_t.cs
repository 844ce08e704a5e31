using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.LevelZero.Native;

[CType("ze_device_mem_alloc_desc_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ze_device_mem_alloc_desc_t
{
    public ze_structure_type_t stype;
    public void* pNext;
    public uint flags;
    public uint ordinal;
}
