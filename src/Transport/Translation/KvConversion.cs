namespace PdRdma.Transport.Translation;

/// <summary>One contiguous run of elements converted on the sending side: source pool bytes → staging bytes in the target dtype.</summary>
public readonly record struct KvConversion(long SourceOffset, long StagingOffset, long Elements);
