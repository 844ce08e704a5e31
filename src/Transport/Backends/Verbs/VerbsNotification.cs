namespace PdRdma.Transport.Backends.Verbs;

/// <summary>A batch notification received from a peer, after every byte of that batch was placed.</summary>
public sealed record VerbsNotification(string PeerName, long Bytes, byte[] Payload);
