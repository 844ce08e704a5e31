namespace PdRdma.Engines.Split;

/// <summary>One contiguous copy from the prefill pool region to the decode pool region.</summary>
public readonly record struct ExtentCopy(long SourceOffset, long TargetOffset, long Length);
