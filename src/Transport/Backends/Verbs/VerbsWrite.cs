namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// One RDMA WRITE: <paramref name="Length"/> bytes from a local registration into a peer's region window.
/// <paramref name="RemoteKey"/>, when given, replaces the region's key: the key of a memory window the peer bound for a
/// grant (<see cref="VerbsWindow"/>); the target NIC then refuses the write unless it lies inside that window.
/// </summary>
public readonly record struct VerbsWrite(VerbsRegistration Source, long SourceOffset, string TargetRegion, long TargetOffset, long Length, uint? RemoteKey = null);
