namespace PdRdma.Transport.LevelZero;

/// <summary>How bytes move between another vendor's device memory (CUDA) and a Level Zero device on one host.</summary>
public enum CrossVendorPath
{
    /// <summary>The other device's dma-buf imported into Level Zero; the XPU copies both ways over PCIe peer-to-peer.</summary>
    DmaBufImport = 1,

    /// <summary>Through a host bounce buffer: other device → host → XPU (and back).</summary>
    HostStaged = 2,
}
