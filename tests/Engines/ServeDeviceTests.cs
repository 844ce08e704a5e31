using PdRdma.Engines;
using PdRdma.Engines.Serving;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

/// <summary>serve --device: cuda only for the colocated role, and refused in this CPU-only build with the fix named.</summary>
public sealed class ServeDeviceTests
{
    [Theory]
    [InlineData("prefill")]
    [InlineData("decode")]
    public async Task SplitRolesOnCudaAreRefusedNamingColocated(string role)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => ServingHost.StartAsync(new ServeOptions { Role = role, Device = EngineDevice.Cuda(0), Port = 0 }, CancellationToken.None));
        Assert.Contains("--role colocated", e.Message);
    }

    [Fact]
    public async Task ColocatedOnCudaInThisBuildIsRefusedNamingTheFix()
    {
        var e = await Assert.ThrowsAsync<TransferException>(() => ServingHost.StartAsync(new ServeOptions { Role = "colocated", Device = EngineDevice.Cuda(0), Port = 0 }, CancellationToken.None));
        Assert.Equal(TransferErrorCode.DeviceUnavailable, e.Code);
        Assert.Contains("gpu-bundle.sh --engine", e.Message);
    }

    [Fact]
    public void TheToyModelHasNoGpuForm()
    {
        Assert.Throws<ArgumentException>(() => ModelCatalog.Open("toy", EngineDevice.Cuda(0)));
        using var toy = ModelCatalog.Open("toy", EngineDevice.Cpu);
    }
}
