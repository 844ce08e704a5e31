using PdRdma.Engines;
using PdRdma.Engines.Serving;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

/// <summary>serve --device cuda: every role (prefill/decode host-staged), refused in this CPU-only build with the fix named.</summary>
public sealed class ServeDeviceTests
{
    [Theory]
    [InlineData("prefill")]
    [InlineData("decode")]
    public async Task SplitRolesOnCudaAreAcceptedAndInThisBuildRefusedOnlyForTheDeviceNamingTheFix(string role)
    {
        // The role is no longer refused (the KV hand-over is host-staged); what stops it here is libtorch without CUDA.
        var e = await Assert.ThrowsAsync<TransferException>(() => ServingHost.StartAsync(new ServeOptions { Role = role, Device = EngineDevice.Cuda(0), Port = 0 }, CancellationToken.None));
        Assert.Equal(TransferErrorCode.DeviceUnavailable, e.Code);
        Assert.Contains("gpu-bundle.sh --engine", e.Message);
        Assert.DoesNotContain("--role colocated", e.Message);
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
