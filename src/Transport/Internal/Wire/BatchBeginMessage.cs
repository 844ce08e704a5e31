using MessagePack;

namespace PdRdma.Transport.Internal.Wire;

/// <summary>
/// Starts a batch. Version 2: the data follows at once (tcp) with no proceed round trip; the target checks the batch
/// against its grants before it places a byte and again as each chunk lands.
/// </summary>
[MessagePackObject]
internal sealed class BatchBeginMessage : IWireMessage
{
    [Key(0)] public long BatchId { get; set; }
    [Key(1)] public WireWrite[] Writes { get; set; } = [];
    [Key(2)] public byte[]? Notification { get; set; }
    [Key(3)] public ChecksumKind Checksum { get; set; }

    /// <summary>The grant the initiator writes under (the target's name for it, e.g. a request id); null: none named.</summary>
    [Key(4)] public string? Grant { get; set; }

    /// <summary>
    /// The data is written under the grant's published window and does not wait for a proceed (backends with grant
    /// windows). The target refuses this for a grant it did not publish on this connection.
    /// </summary>
    [Key(5)] public bool Windowed { get; set; }

    public void Validate()
    {
        if (Writes is null) throw new TransferException(TransferErrorCode.Protocol, $"batch {BatchId} without a write list (nil)");
        for (var i = 0; i < Writes.Length; i++)
        {
            if (Writes[i] is null) throw new TransferException(TransferErrorCode.Protocol, $"batch {BatchId}: write {i} is nil");
            if (Writes[i].Region is null) throw new TransferException(TransferErrorCode.Protocol, $"batch {BatchId}: write {i} names no region (nil)");
        }
        if (Windowed && Grant is null) throw new TransferException(TransferErrorCode.Protocol, $"batch {BatchId}: windowed without a grant");
        if (Grant is { Length: > 256 }) throw new TransferException(TransferErrorCode.Protocol, $"batch {BatchId}: grant name over 256 characters");
    }
}
