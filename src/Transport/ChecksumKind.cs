namespace PdRdma.Transport;

/// <summary>Per-batch checksum the target verifies before it notifies.</summary>
public enum ChecksumKind
{
    None = 0,
    XxHash3 = 1,
}
