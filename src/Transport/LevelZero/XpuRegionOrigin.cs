namespace PdRdma.Transport.LevelZero;

/// <summary>Where the memory of a <see cref="LevelZeroDeviceRegion"/> came from.</summary>
public enum XpuRegionOrigin
{
    Allocated = 1,
    IpcMapping = 2,
    DmaBufImport = 3,
}
