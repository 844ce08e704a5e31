namespace PdRdma.Transport.Backends.Verbs;

/// <summary>How a region's bytes meet the RDMA device.</summary>
public enum VerbsMemoryPath
{
    /// <summary>Host memory pinned with ibv_reg_mr.</summary>
    HostRegistered = 0,

    /// <summary>Device memory (or any dma-buf exporter) registered with ibv_reg_dmabuf_mr: the NIC reads and writes it directly (GPUDirect RDMA).</summary>
    DmaBuf = 1,

    /// <summary>
    /// The dma-buf registration failed: the NIC reads and writes a registered host bounce buffer of the region's size,
    /// copied from the device before a send and into it after a receive.
    /// </summary>
    HostStaged = 2,
}
