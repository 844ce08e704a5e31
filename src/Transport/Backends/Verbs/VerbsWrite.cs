namespace PdRdma.Transport.Backends.Verbs;

/// <summary>One RDMA WRITE: <paramref name="Length"/> bytes from a local registration into a peer's region window.</summary>
public readonly record struct VerbsWrite(VerbsRegistration Source, long SourceOffset, string TargetRegion, long TargetOffset, long Length);
