namespace PdRdma.Transport;

/// <summary>
/// Memory registered once with the transfer library and reused for every transfer.
/// The region owns its mapping; <see cref="Address"/> is valid until <see cref="IDisposable.Dispose"/>.
/// </summary>
public interface IMemoryRegion : IDisposable
{
    /// <summary>Name unique within one agent; peers address the region by it.</summary>
    string Id { get; }

    MemoryKind Kind { get; }

    long Length { get; }

    /// <summary>
    /// Base address of the mapping in this process. Internal: raw pointers stay inside the transfer library and the
    /// C ABI (PdRdma.Native); everything else reaches region bytes through spans and the regions' own calls.
    /// </summary>
    internal nint Address { get; }

    /// <summary>Path other processes on this host can map to see the same pages, or null where none exists.</summary>
    string? SharedPath { get; }
}
