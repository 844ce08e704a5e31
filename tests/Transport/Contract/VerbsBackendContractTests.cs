using System.Net;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Backends.Verbs;

namespace PdRdma.Tests.Transport.Contract;

/// <summary>
/// The backend contract over RDMA verbs. Needs an RDMA device: on a host without one every check is skipped with the
/// reason, and tests/Verbs/VerbsContractInVmTests runs this class inside a Soft-RoCE VM (rxe0), where the target listens
/// on the VM's own address (PDRDMA_VM_IP) rather than loopback.
/// </summary>
[NeedsRdmaDevice]
[Trait("Category", "Verbs")]
public sealed class VerbsBackendContractTests : BackendContractTests
{
    protected override ITransferBackend CreateBackend() => new VerbsBackend();

    protected override string ExpectedName => "verbs";

    protected override IPAddress ListenAddress =>
        IPAddress.TryParse(Environment.GetEnvironmentVariable("PDRDMA_VM_IP"), out var vm) ? vm : IPAddress.Loopback;
}
