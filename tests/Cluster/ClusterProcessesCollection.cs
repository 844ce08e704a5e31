namespace PdRdma.Tests.Cluster;

/// <summary>
/// The tests that start whole clusters (etcd, several daemons and engines, a proxy) run alone, after the parallel
/// part of the suite: on a small CI machine their dozen processes would otherwise slow the timing-bounded tests
/// of other areas (lease TTLs, VM start bounds) running beside them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterProcessesCollection
{
    public const string Name = "cluster processes";
}
