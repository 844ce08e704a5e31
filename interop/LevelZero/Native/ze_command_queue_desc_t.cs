using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.LevelZero.Native;

[CType("ze_command_queue_desc_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ze_command_queue_desc_t
{
    public ze_structure_type_t stype;
    public void* pNext;
    public uint ordinal;
    public uint index;
    public uint flags;
    public ze_command_queue_mode_t mode;
    public uint priority;
}
