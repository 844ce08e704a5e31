using System.Runtime.InteropServices;

namespace PdRdma.Interop.DmaBuf;

/// <summary>A MAP_SHARED mapping of a file or dma-buf descriptor; munmap on release.</summary>
public sealed class MappedMemoryHandle : SafeHandle
{
    internal MappedMemoryHandle(nint address, nuint length) : base(-1, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>Bytes mapped.</summary>
    public nuint Length { get; }

    /// <summary>Start of the mapping.</summary>
    public nint Address => handle;

    /// <inheritdoc />
    public override bool IsInvalid => handle == -1 || handle == 0;

    /// <inheritdoc />
    protected override bool ReleaseHandle() => DmaBufSources.munmap(handle, Length) == 0;
}
