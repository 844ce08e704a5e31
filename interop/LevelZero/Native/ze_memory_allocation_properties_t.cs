using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.LevelZero.Native;

[CType("ze_memory_allocation_properties_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ze_memory_allocation_properties_t
{
    public ze_structure_type_t stype;
    public void* pNext;
    public ze_memory_type_t type;
    public ulong id;
    public ulong pageSize;
}
