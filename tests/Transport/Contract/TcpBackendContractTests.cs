using PdRdma.Transport.Backends;
using PdRdma.Transport.Backends.Tcp;

namespace PdRdma.Tests.Transport.Contract;

public sealed class TcpBackendContractTests : BackendContractTests
{
    protected override ITransferBackend CreateBackend() => new TcpBackend();

    protected override string ExpectedName => "tcp";
}
