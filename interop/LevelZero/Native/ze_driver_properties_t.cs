using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.LevelZero.Native;

[CType("ze_driver_properties_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ze_driver_properties_t
{
    public ze_structure_type_t stype;
    public void* pNext;
    public fixed byte uuid[16];
    public uint driverVersion;
}
