namespace PdRdma.Transport;

/// <summary>One one-sided write: <paramref name="Length"/> bytes from a local region into a peer's region.</summary>
public sealed record WriteOp(string SourceRegion, long SourceOffset, string TargetRegion, long TargetOffset, long Length);
