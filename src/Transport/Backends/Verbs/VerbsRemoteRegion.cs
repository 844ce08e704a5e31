using MessagePack;

namespace PdRdma.Transport.Backends.Verbs;

/// <summary>What a peer needs to RDMA WRITE into one registered window of a region: its address and remote key.</summary>
[MessagePackObject]
public sealed record VerbsRemoteRegion(
    [property: Key(0)] string RegionId,
    [property: Key(1)] ulong Address,
    [property: Key(2)] long Length,
    [property: Key(3)] uint RemoteKey);
