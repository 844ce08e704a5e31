using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.LevelZero.Native;

[CType("ze_context_desc_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ze_context_desc_t
{
    public ze_structure_type_t stype;
    public void* pNext;
    public uint flags;
}
