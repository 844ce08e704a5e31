using MessagePack;

namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// One side's half of an RC connection, exchanged over the TCP control link (opaque to the agent).
/// <see cref="Version"/> is checked first; a peer on another version gets an error naming both.
/// </summary>
[MessagePackObject]
public sealed record VerbsConnectionInfo(
    [property: Key(0)] int Version,
    [property: Key(1)] string DeviceName,
    [property: Key(2)] uint QueuePairNumber,
    [property: Key(3)] uint PacketSequenceNumber,
    [property: Key(4)] byte[] Gid,
    [property: Key(5)] int Mtu,
    [property: Key(6)] IReadOnlyList<VerbsRemoteRegion> Regions)
{
    /// <summary>2: batch notifications are immediates (WRITE_WITH_IMM), grants may come with memory windows.</summary>
    public const int CurrentVersion = 2;
}
