namespace PdRdma.Transport.Translation;

/// <summary>One contiguous write of a translation: from the source pool (or the staging region, after a dtype conversion) to the target pool.</summary>
public readonly record struct KvCopy(long SourceOffset, long TargetOffset, long Length);
