namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// A batch notification received from a peer, after every byte of that batch was placed: a SEND carrying
/// <paramref name="Payload"/> (and the batch's byte count), or an RDMA WRITE_WITH_IMM / SEND_WITH_IMM carrying only
/// <paramref name="Immediate"/> (then <paramref name="Payload"/> is empty and <paramref name="Bytes"/> is the length of
/// the write that carried it).
/// </summary>
public sealed record VerbsNotification(string PeerName, long Bytes, byte[] Payload, uint? Immediate = null);
