using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>Body of Proceed, Done and Abort: just the batch.</summary>
[MessagePackObject]
internal sealed class BatchIdMessage
{
    [Key(0)] public long BatchId { get; set; }
}
