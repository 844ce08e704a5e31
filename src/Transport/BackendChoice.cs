namespace PdRdma.Transport;

/// <summary>Which backend a connection uses: <see cref="Auto"/> picks per peer (same host → shm, else verbs where both sides have an RDMA device, else tcp).</summary>
public enum BackendChoice
{
    Auto = 0,
    Shm = 1,
    Tcp = 2,
    Verbs = 3,
}
