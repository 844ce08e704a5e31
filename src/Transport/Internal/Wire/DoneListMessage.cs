using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>Body of <see cref="MessageType.Dones"/>: batches whose bytes are all placed (and notified), acknowledged together.</summary>
[MessagePackObject]
internal sealed class DoneListMessage : IWireMessage
{
    /// <summary>Most batches one frame acknowledges (the target flushes before it has more).</summary>
    public const int MaxBatches = 1024;

    [Key(0)] public long[] BatchIds { get; set; } = [];

    public void Validate()
    {
        if (BatchIds is null) throw new TransferException(TransferErrorCode.Protocol, "done list without batch ids (nil)");
        if (BatchIds.Length > MaxBatches) throw new TransferException(TransferErrorCode.Protocol, $"done list of {BatchIds.Length} batches, at most {MaxBatches}");
    }
}
