using System.Runtime.InteropServices;

namespace PdRdma.Interop.Torch;

/// <summary>
/// The one LibTorchSharp entry point TorchSharp 0.107 does not expose as it is: the raw address of a tensor's storage.
/// TorchSharp's <c>Tensor.storage&lt;T&gt;()</c> first converts the tensor to <c>T</c> (<c>storage&lt;byte&gt;()</c> of a
/// bf16 tensor is the storage of a new uint8 copy, half the size, freed with it), so a pool's address must come from
/// here. The library is the one TorchSharp loaded (same name, same process).
/// </summary>
public static partial class LibTorchSharp
{
    /// <summary>libtorch's <c>tensor.storage().data_ptr()</c> for a TorchSharp tensor handle (<c>Tensor.Handle</c>): no copy, no conversion.</summary>
    [LibraryImport("LibTorchSharp", EntryPoint = "THSStorage_data_ptr")]
    public static partial nint StorageDataPointer(nint tensor);
}
