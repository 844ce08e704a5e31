namespace PdRdma.Engines;

/// <summary>Where a model's weights, activations and KV pool live.</summary>
public enum EngineDeviceKind
{
    /// <summary>Host memory; libtorch's CPU kernels.</summary>
    Cpu = 0,

    /// <summary>An NVIDIA GPU through libtorch's CUDA kernels (the host's PyTorch libtorch, see <see cref="TorchRuntime"/>).</summary>
    Cuda = 1,
}
