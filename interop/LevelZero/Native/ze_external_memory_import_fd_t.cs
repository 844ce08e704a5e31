using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.LevelZero.Native;

[CType("ze_external_memory_import_fd_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ze_external_memory_import_fd_t
{
    public ze_structure_type_t stype;
    public void* pNext;
    public ze_external_memory_type_flags_t flags;
    public int fd;
}
