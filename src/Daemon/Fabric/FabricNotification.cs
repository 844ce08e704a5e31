namespace PdRdma.Daemon.Fabric;

/// <summary>A notification received from a peer, with the bytes its batch placed.</summary>
public sealed record FabricNotification(string PeerNodeId, byte[] Payload, long Bytes);
