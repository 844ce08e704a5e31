using MessagePack;

namespace PdRdma.Transport.Backends.SharedMemory.Internal;

/// <summary>
/// Target → initiator setup blob: where the connection's channel file is and how it is laid out. The initiator opens
/// the path only if <see cref="SharedPathPolicy"/> allows it and checks the sizes against its own bounds. The target's
/// per-batch limits travel with it: a batch over them takes the control link, where it is refused before a byte moves.
/// </summary>
[MessagePackObject]
public sealed record ChannelOffer(
    [property: Key(0)] int Version,
    [property: Key(1)] string Path,
    [property: Key(2)] int RingBytes,
    [property: Key(3)] int ErrorSlots,
    [property: Key(4)] int GrantSlots,
    [property: Key(5)] bool RequiresGrant,
    [property: Key(6)] int MaxWritesPerBatch,
    [property: Key(7)] long MaxBatchBytes);
