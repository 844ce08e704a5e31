using PdRdma.Transport;

namespace PdRdma.Native;

/// <summary>
/// A region over memory the C caller owns (a pointer and a length it passed to <c>pdrdma_region_register</c>). The library
/// never frees it; the caller keeps it valid until the region is deregistered and no batch uses it. Has no shared file,
/// so a same-host peer cannot map it: as a shm target use <c>pdrdma_region_alloc</c>.
/// </summary>
internal sealed class ForeignRegion(string id, nint address, long length, MemoryKind kind) : IMemoryRegion
{
    public string Id { get; } = id;

    public MemoryKind Kind { get; } = kind;

    public long Length { get; } = length;

    nint IMemoryRegion.Address => address;

    public string? SharedPath => null;

    public void Dispose()
    {
    }
}
