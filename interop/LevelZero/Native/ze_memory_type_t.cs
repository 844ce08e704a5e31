namespace PdRdma.Interop.LevelZero.Native;

/// <summary>What zeMemGetAllocProperties says a pointer is.</summary>
public enum ze_memory_type_t : uint
{
    ZE_MEMORY_TYPE_UNKNOWN = 0,
    ZE_MEMORY_TYPE_HOST = 1,
    ZE_MEMORY_TYPE_DEVICE = 2,
    ZE_MEMORY_TYPE_SHARED = 3,
}
