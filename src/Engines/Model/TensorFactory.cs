using PdRdma.Transport;
using TorchSharp;
using static TorchSharp.torch;

namespace PdRdma.Engines.Model;

/// <summary>Builds weight tensors from float32 data in the model's dtype and on its device.</summary>
public static class TensorFactory
{
    public static ScalarType ToScalarType(KvDType dtype) => dtype switch
    {
        KvDType.Float32 => ScalarType.Float32,
        KvDType.BFloat16 => ScalarType.BFloat16,
        KvDType.Float16 => ScalarType.Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static Tensor FromFloats(float[] data, long[] shape, KvDType dtype, Device device)
    {
        using var cpu = torch.tensor(data, shape, ScalarType.Float32);
        return cpu.to(ToScalarType(dtype), device).detach();
    }
}
