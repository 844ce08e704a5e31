namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// A device-memory region (anything that exports a dma-buf: CUDA, Level Zero, udmabuf/vgem host memory) made
/// reachable by the RDMA device, through <see cref="VerbsMemoryPath.DmaBuf"/> or, when that registration fails,
/// <see cref="VerbsMemoryPath.HostStaged"/> (the reason in <see cref="FallbackReason"/>). Peers write into
/// <see cref="Registration"/>'s window either way; with staging the owner copies with <see cref="StageOut"/> before
/// sending from the region and <see cref="StageIn"/> after bytes arrived. Dispose before the region.
/// </summary>
public sealed class VerbsDeviceWindow : IDisposable
{
    internal VerbsDeviceWindow(IDeviceMemory region, VerbsMemoryPath path, VerbsRegistration registration, HostStaging? staging, string? fallbackReason)
    {
        Region = region;
        Path = path;
        Registration = registration;
        Staging = staging;
        FallbackReason = fallbackReason;
    }

    /// <summary>The device memory this window serves.</summary>
    public IDeviceMemory Region { get; }

    /// <summary>The path chosen.</summary>
    public VerbsMemoryPath Path { get; }

    /// <summary>Why the dma-buf registration was not used (its error, or "staging forced"); null on the dma-buf path.</summary>
    public string? FallbackReason { get; }

    /// <summary>What the NIC uses: the dma-buf registration of the region, or the registration of the bounce buffer.</summary>
    public VerbsRegistration Registration { get; }

    /// <summary>The registered host bounce buffer (same length as the region) on the staged path; null on the dma-buf path.</summary>
    public HostStaging? Staging { get; }

    /// <summary>Staged path: copies [offset, offset+length) of the device region into the bounce buffer (before the NIC reads it). No-op on the dma-buf path.</summary>
    public void StageOut(long offset, long length) => Staging?.StageOut(offset, length);

    /// <summary>Staged path: copies [offset, offset+length) of the bounce buffer into the device region (after the NIC placed it). No-op on the dma-buf path.</summary>
    public void StageIn(long offset, long length) => Staging?.StageIn(offset, length);

    /// <summary>Revokes the registration, then frees the bounce buffer.</summary>
    public void Dispose()
    {
        Registration.Dispose();
        Staging?.Dispose();
    }
}
