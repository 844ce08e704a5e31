namespace PdRdma.Transport;

/// <summary>Delivered on the target once every byte of a batch is in place; <paramref name="Bytes"/> is the batch's size.</summary>
public sealed record TransferNotification(string PeerNodeId, byte[] Payload, long Bytes);
