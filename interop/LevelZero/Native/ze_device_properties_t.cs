using System.Runtime.InteropServices;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Interop.LevelZero.Native;

[CType("ze_device_properties_t")]
[StructLayout(LayoutKind.Sequential)]
public unsafe struct ze_device_properties_t
{
    public ze_structure_type_t stype;
    public void* pNext;
    public uint type;
    public uint vendorId;
    public uint deviceId;
    public uint flags;
    public uint subdeviceId;
    public uint coreClockRate;
    public ulong maxMemAllocSize;
    public uint maxHardwareContexts;
    public uint maxCommandQueuePriority;
    public uint numThreadsPerEU;
    public uint physicalEUSimdWidth;
    public uint numEUsPerSubslice;
    public uint numSubslicesPerSlice;
    public uint numSlices;
    public ulong timerResolution;
    public uint timestampValidBits;
    public uint kernelTimestampValidBits;
    public fixed byte uuid[16];
    public fixed byte name[256];
}
