using System.Runtime.InteropServices;
using PdRdma.Interop.Torch;
using TorchSharp;

namespace PdRdma.Tests.Engines;

/// <summary>
/// A KV pool's device address comes from the tensor's own storage (found on the H200: TorchSharp's storage&lt;byte&gt;()
/// of a bf16 pool is a converted copy half its size, so the CUDA region pointed at freed memory).
/// </summary>
public sealed class TensorStorageAddressTests
{
    [Theory]
    [InlineData(torch.ScalarType.BFloat16, (short)0x3FC0)] // 1.5 in bf16
    [InlineData(torch.ScalarType.Float16, (short)0x3E00)] // 1.5 in fp16
    public void TheStorageAddressIsTheTensorsOwnMemory(torch.ScalarType type, short bitsOfOneAndAHalf)
    {
        using var tensor = torch.zeros([64], type);
        var address = LibTorchSharp.StorageDataPointer(tensor.Handle);
        Assert.NotEqual(0, address);
        using (var at = tensor[5]) at.fill_(1.5);
        Assert.Equal(bitsOfOneAndAHalf, Marshal.ReadInt16(address, 5 * 2));
        Assert.Equal(0, Marshal.ReadInt16(address, 4 * 2));

        // What KvPool used to take: the storage of a uint8 conversion, elsewhere and a different size.
        var converted = tensor.storage<byte>();
        Assert.NotEqual(address, converted.data_ptr());
        Assert.Equal(64L, (long)converted.nbytes());
    }
}
