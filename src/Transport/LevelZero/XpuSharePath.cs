namespace PdRdma.Transport.LevelZero;

/// <summary>How a Level Zero device region reaches a peer process on the same host, best first.</summary>
public enum XpuSharePath
{
    /// <summary>Level Zero IPC handle: the peer maps the same device memory (same device, same host).</summary>
    SameDeviceIpc = 1,

    /// <summary>A dma-buf of the region: the peer imports it (another device, or an RDMA NIC via ibv_reg_dmabuf_mr).</summary>
    DmaBuf = 2,

    /// <summary>Device to a shared host region and on to the peer; the owner copies on each hand-over.</summary>
    HostStaged = 3,
}
