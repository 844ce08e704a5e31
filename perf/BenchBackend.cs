namespace PdRdma.Perf;

/// <summary>A backend the benchmarks measure (the <c>--backend</c> option; reports name it in lower case).</summary>
public enum BenchBackend
{
    /// <summary>Shared memory.</summary>
    Shm,

    /// <summary>TCP.</summary>
    Tcp,

    /// <summary>RDMA verbs (two Soft-RoCE VMs on a host without an RDMA device).</summary>
    Verbs,
}
