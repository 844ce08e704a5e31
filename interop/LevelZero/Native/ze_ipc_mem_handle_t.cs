using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.LevelZero.Native;

/// <summary>64 opaque bytes; on Linux drivers they carry a descriptor valid only in the process that got them.</summary>
[CType("ze_ipc_mem_handle_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ze_ipc_mem_handle_t
{
    public fixed byte data[64];
}
