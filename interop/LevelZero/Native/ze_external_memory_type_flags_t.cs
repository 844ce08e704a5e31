namespace PdRdma.Interop.LevelZero.Native;

/// <summary>External memory handle kinds; PdRdma uses dma-buf only.</summary>
[Flags]
public enum ze_external_memory_type_flags_t : uint
{
    ZE_EXTERNAL_MEMORY_TYPE_FLAG_OPAQUE_FD = 1 << 0,
    ZE_EXTERNAL_MEMORY_TYPE_FLAG_DMA_BUF = 1 << 1,
}
