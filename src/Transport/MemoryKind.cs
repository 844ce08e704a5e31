namespace PdRdma.Transport;

/// <summary>Where a region's bytes live. Device kinds are declared now so descriptors keep their keys.</summary>
public enum MemoryKind
{
    Host = 0,
    CudaDevice = 1,
    LevelZeroDevice = 2,
}
