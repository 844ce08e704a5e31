using PdRdma.Transport.Backends;
using PdRdma.Transport.Backends.SharedMemory;

namespace PdRdma.Tests.Transport.Contract;

public sealed class SharedMemoryBackendContractTests : BackendContractTests
{
    protected override ITransferBackend CreateBackend() => new SharedMemoryBackend();

    protected override string ExpectedName => "shm";
}
