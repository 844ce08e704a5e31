using PdRdma.Transport;

namespace PdRdma.Native;

/// <summary>A region handle: the agent it is registered with, and whether the library allocated (and so frees) its memory.</summary>
internal sealed record NativeRegion(NativeAgent Owner, IMemoryRegion Region, bool OwnedByLibrary);
