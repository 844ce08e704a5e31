using PdRdma.Transport;

namespace PdRdma.Tests.Security;

/// <summary>A real region that advertises another file as its shared path: what a hostile target holding the secret could send.</summary>
internal sealed class LyingRegion(HostRegion inner, string claimedPath) : IMemoryRegion
{
    public string Id => inner.Id;
    public MemoryKind Kind => inner.Kind;
    public long Length => inner.Length;
    public nint Address => inner.Address;
    public string? SharedPath => claimedPath;
    public void Dispose() => inner.Dispose();
}
