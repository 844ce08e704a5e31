using Microsoft.Win32.SafeHandles;

namespace PdRdma.Transport;

/// <summary>
/// A device-memory region another component can copy to and from, and export as a dma-buf (CUDA and Level Zero
/// regions). Read and Write are synchronous; callers serialise writers to overlapping ranges.
/// </summary>
public interface IDeviceMemory : IMemoryRegion
{
    /// <summary>Copies [offset, offset+destination.Length) into host memory.</summary>
    void Read(long offset, Span<byte> destination);

    /// <summary>Copies host bytes into [offset, offset+source.Length).</summary>
    void Write(long offset, ReadOnlySpan<byte> source);

    /// <summary>A dma-buf descriptor of the whole region; the caller owns it. TransferException(Unsupported) where the driver cannot.</summary>
    SafeFileHandle ExportDmaBuf();
}
