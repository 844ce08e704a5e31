namespace PdRdma.Transport.Backends;

/// <summary>One write of an accepted batch, resolved: the local source region and the peer's descriptor.</summary>
public sealed record PlannedWrite(int Index, IMemoryRegion Source, long SourceOffset, RegionDescriptor Target, long TargetOffset, long Length);
