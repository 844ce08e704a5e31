namespace PdRdma.Daemon.Fabric;

/// <summary>One one-sided write: source region+offset → target region+offset.</summary>
public sealed record FabricWriteOp(string SourceRegion, long SourceOffset, string TargetRegion, long TargetOffset, long Length);
