using PdRdma.Engines;
using PdRdma.Engines.Loading;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

/// <summary>--device parsing (hostile spellings included) and the typed refusal of CUDA in this CPU-only build.</summary>
public sealed class EngineDeviceTests
{
    [Theory]
    [InlineData("cpu", EngineDeviceKind.Cpu, 0, "cpu")]
    [InlineData("cuda", EngineDeviceKind.Cuda, 0, "cuda:0")]
    [InlineData("cuda:0", EngineDeviceKind.Cuda, 0, "cuda:0")]
    [InlineData("cuda:7", EngineDeviceKind.Cuda, 7, "cuda:7")]
    [InlineData("cuda:255", EngineDeviceKind.Cuda, 255, "cuda:255")]
    public void ParsesTheAcceptedForms(string text, EngineDeviceKind kind, int index, string canonical)
    {
        var d = EngineDevice.Parse(text);
        Assert.Equal(kind, d.Kind);
        Assert.Equal(index, d.Index);
        Assert.Equal(canonical, d.ToString());
        Assert.Equal(d, EngineDevice.Parse(d.ToString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("CPU")]
    [InlineData("cpu ")]
    [InlineData(" cuda")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:+1")]
    [InlineData("cuda: 1")]
    [InlineData("cuda:256")]
    [InlineData("cuda:0001")]
    [InlineData("cuda:1x")]
    [InlineData("cuda:١")]
    [InlineData("cuda:0;rm -rf /")]
    [InlineData("gpu")]
    [InlineData("xpu:0")]
    [InlineData("mps")]
    public void RefusesEverythingElseWithATypedError(string? text)
    {
        Assert.False(EngineDevice.TryParse(text, out var d));
        Assert.Equal(EngineDevice.Cpu, d);
        var e = Assert.Throws<TransferException>(() => EngineDevice.Parse(text));
        Assert.Equal(TransferErrorCode.Unsupported, e.Code);
        Assert.Contains("cpu, cuda, cuda:N", e.Message);
    }

    [Fact]
    public void AHugeDeviceNameIsRefusedAndNotEchoedWhole()
    {
        var text = "cuda:" + new string('9', 100_000);
        var e = Assert.Throws<TransferException>(() => EngineDevice.Parse(text));
        Assert.True(e.Message.Length < 300, e.Message);
    }

    [Fact]
    public void TheCpuIsTheDefaultEverywhere()
    {
        Assert.Equal(EngineDevice.Cpu, default);
        Assert.Equal(EngineDevice.Cpu, new ModelLoadOptions().Device);
        TorchRuntime.EnsureAvailable(EngineDevice.Cpu);
    }

    [Fact]
    public void CudaInThisBuildIsRefusedNamingTheFix()
    {
        // The test build carries TorchSharp-cpu's libtorch, found in the runtime's native search folders.
        Assert.True(TorchRuntime.PackagedLibTorch);
        var e = Assert.Throws<TransferException>(() => TorchRuntime.EnsureAvailable(EngineDevice.Cuda(0)));
        Assert.Equal(TransferErrorCode.DeviceUnavailable, e.Code);
        Assert.Contains("TorchSharp-cpu", e.Message);
        Assert.Contains("gpu-bundle.sh --engine", e.Message);
        Assert.Contains(TorchRuntime.LibTorchDirVariable, e.Message);
    }

    [Fact]
    public void LoadingAModelOntoCudaIsRefusedBeforeAnyWeightIsBuilt()
    {
        var e = Assert.Throws<TransferException>(() => ModelSource.Load("tiny-random", new ModelLoadOptions { Device = EngineDevice.Cuda(0) }));
        Assert.Equal(TransferErrorCode.DeviceUnavailable, e.Code);
        Assert.Equal(TransferErrorCode.Unsupported, Assert.Throws<TransferException>(() => ModelSource.CheckDevice("cuda:x")).Code);
    }

    [Fact]
    public void APackagedLibTorchIgnoresTheHostLibTorchVariable()
    {
        // Two libtorch builds in one process would be fatal: with the package's own, the variable is not acted on.
        var before = Environment.GetEnvironmentVariable(TorchRuntime.LibTorchDirVariable);
        try
        {
            Environment.SetEnvironmentVariable(TorchRuntime.LibTorchDirVariable, "/nonexistent/torch/lib");
            Assert.Null(TorchRuntime.PreloadHostLibTorch());
            Assert.Null(TorchRuntime.HostLibTorchDir);
        }
        finally
        {
            Environment.SetEnvironmentVariable(TorchRuntime.LibTorchDirVariable, before);
        }
    }
}
